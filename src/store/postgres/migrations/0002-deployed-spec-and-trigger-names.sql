-- Failure safety (issue 16), as SQLite's 0002. A service keeps the target and image the runtime
-- runs apart from what a PATCH says, so a failed redeploy can put the row back; the deployment
-- keeps what it tried. Rows from before this assume they run what they say.
ALTER TABLE services ADD COLUMN deployed_spec jsonb;
UPDATE services SET deployed_spec = jsonb_build_object('target', spec -> 'target', 'image', spec -> 'image');
ALTER TABLE deployments ADD COLUMN tried jsonb;

-- Trigger names are unique among an owner's live triggers, in the database, so two creates at
-- once (on any instance) cannot both take a name. Live duplicates made before the API checked
-- names keep the oldest one's name; the others get their id's last 8 digits appended.
UPDATE triggers SET options = jsonb_set(options, '{name}',
    to_jsonb(left(options ->> 'name', 54) || '-' || right(id, 8)))
  WHERE revoked_at IS NULL AND EXISTS (
    SELECT 1 FROM triggers older
     WHERE older.revoked_at IS NULL AND older.seq < triggers.seq
       AND older.service IS NOT DISTINCT FROM triggers.service
       AND older.stack IS NOT DISTINCT FROM triggers.stack
       AND older.options ->> 'name' = triggers.options ->> 'name');
CREATE UNIQUE INDEX triggers_live_service_name ON triggers (service, (options ->> 'name'))
  WHERE revoked_at IS NULL AND service IS NOT NULL;
CREATE UNIQUE INDEX triggers_live_stack_name ON triggers (stack, (options ->> 'name'))
  WHERE revoked_at IS NULL AND stack IS NOT NULL;
