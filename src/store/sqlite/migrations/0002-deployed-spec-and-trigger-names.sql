-- Failure safety (issue 16). A service keeps the target and image the runtime runs apart from
-- what a PATCH says, so a failed redeploy can put the row back; the deployment keeps what it
-- tried. Rows from before this assume they run what they say.
ALTER TABLE services ADD COLUMN deployed_spec TEXT;
UPDATE services SET deployed_spec = json_object('target', json(spec) -> '$.target', 'image', json(spec) -> '$.image');
ALTER TABLE deployments ADD COLUMN tried TEXT;

-- Trigger names are unique among an owner's live triggers, in the database, so two creates at
-- once cannot both take a name. Live duplicates made before the API checked names keep the
-- oldest one's name; the others get their id's last 8 digits appended.
UPDATE triggers SET options = json_set(options, '$.name',
    substr(json_extract(options, '$.name'), 1, 54) || '-' || substr(id, -8))
  WHERE revoked_at IS NULL AND EXISTS (
    SELECT 1 FROM triggers older
     WHERE older.revoked_at IS NULL AND older.seq < triggers.seq
       AND older.service IS triggers.service AND older.stack IS triggers.stack
       AND json_extract(older.options, '$.name') = json_extract(triggers.options, '$.name'));
CREATE UNIQUE INDEX triggers_live_service_name ON triggers (service, json_extract(options, '$.name'))
  WHERE revoked_at IS NULL AND service IS NOT NULL;
CREATE UNIQUE INDEX triggers_live_stack_name ON triggers (stack, json_extract(options, '$.name'))
  WHERE revoked_at IS NULL AND stack IS NOT NULL;
