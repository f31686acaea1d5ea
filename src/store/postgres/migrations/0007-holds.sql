-- Change windows and freezes (PRODUCT.md section 10): a `held` deployment records why it waits
-- and until when (null while a freeze has no end, both null when not held), and a service its
-- freeze in `frozen` ({until, message, by, at} as JSON, null when not frozen: FREEZE is a
-- keyword of PostgreSQL). A column of the service, not of its spec: applying a config file
-- must not lift it.
ALTER TABLE deployments ADD COLUMN hold_until TIMESTAMPTZ;
ALTER TABLE deployments ADD COLUMN hold_reason TEXT;
ALTER TABLE services ADD COLUMN frozen JSONB;
