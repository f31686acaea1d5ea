-- The whole schema of Deckhand's first release on PostgreSQL, the same tables and columns as
-- SQLite's 0001: JSON shapes in jsonb columns, times in timestamptz, `seq` as the page cursor.
CREATE TABLE services (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  driver text NOT NULL,
  spec jsonb NOT NULL,
  tag text,
  replicas integer,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE stacks (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  services jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE triggers (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  service text,
  stack text,
  -- NULL once revoked, so a revoked token takes the very path of an unknown one.
  token_hash text UNIQUE,
  options jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX triggers_service ON triggers (service, seq);
CREATE INDEX triggers_stack ON triggers (stack, seq);

CREATE TABLE calls (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  trigger_id text,
  sender text,
  outcome text NOT NULL,
  status integer NOT NULL,
  reason text,
  deployment_ids jsonb NOT NULL,
  delivery_id text,
  remote_address text,
  received_at timestamptz NOT NULL
);
CREATE INDEX calls_trigger ON calls (trigger_id, seq);
CREATE INDEX calls_delivery ON calls (trigger_id, delivery_id) WHERE delivery_id IS NOT NULL;
CREATE INDEX calls_queued ON calls (trigger_id, seq) WHERE outcome IN ('queued', 'coalesced');

CREATE TABLE deployments (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  service text NOT NULL,
  action text NOT NULL,
  state text NOT NULL,
  params jsonb NOT NULL,
  input jsonb NOT NULL,
  calls integer NOT NULL,
  trigger_id text,
  created_at timestamptz NOT NULL,
  started_at timestamptz,
  finished_at timestamptz,
  error text,
  owner text,
  lease_expires_at timestamptz,
  cancel_requested boolean NOT NULL DEFAULT false
);
CREATE INDEX deployments_service ON deployments (service, seq);
CREATE INDEX deployments_state ON deployments (state, seq);
-- failAbandoned('expired') scans only the running rows, by lease.
CREATE INDEX deployments_lease ON deployments (lease_expires_at) WHERE state = 'running';
-- The database itself refuses a second running deployment of a service, across every
-- instance, and a second queued one of the same action: coalescing does not rest on luck.
CREATE UNIQUE INDEX deployments_one_running ON deployments (service) WHERE state = 'running';
CREATE UNIQUE INDEX deployments_one_queued ON deployments (service, action) WHERE state = 'queued';

CREATE TABLE deployment_logs (
  deployment_id text NOT NULL,
  seq integer NOT NULL,
  at timestamptz NOT NULL,
  stream text NOT NULL,
  line text NOT NULL,
  PRIMARY KEY (deployment_id, seq)
);

CREATE TABLE admin_tokens (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  name text NOT NULL,
  token_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz
);
