-- The whole schema of Deckhand's first release. JSON columns hold nested shapes that are
-- read and written whole (a service's target, a trigger's options); anything queried is a column.
CREATE TABLE services (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  driver TEXT NOT NULL,
  spec TEXT NOT NULL,
  tag TEXT,
  replicas INTEGER,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE stacks (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  services TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE triggers (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  service TEXT,
  stack TEXT,
  -- NULL once revoked, so a revoked token takes the very path of an unknown one.
  token_hash TEXT UNIQUE,
  options TEXT NOT NULL,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE INDEX triggers_service ON triggers (service, seq);
CREATE INDEX triggers_stack ON triggers (stack, seq);

CREATE TABLE calls (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  trigger_id TEXT,
  sender TEXT,
  outcome TEXT NOT NULL,
  status INTEGER NOT NULL,
  reason TEXT,
  deployment_ids TEXT NOT NULL,
  delivery_id TEXT,
  remote_address TEXT,
  received_at TEXT NOT NULL
);
CREATE INDEX calls_trigger ON calls (trigger_id, seq);
CREATE INDEX calls_delivery ON calls (trigger_id, delivery_id) WHERE delivery_id IS NOT NULL;
CREATE INDEX calls_queued ON calls (trigger_id, seq) WHERE outcome IN ('queued', 'coalesced');

CREATE TABLE deployments (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  service TEXT NOT NULL,
  action TEXT NOT NULL,
  state TEXT NOT NULL,
  params TEXT NOT NULL,
  input TEXT NOT NULL,
  calls INTEGER NOT NULL,
  trigger_id TEXT,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  error TEXT,
  owner TEXT,
  lease_expires_at TEXT,
  cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX deployments_service ON deployments (service, seq);
CREATE INDEX deployments_state ON deployments (state, seq);
-- The database itself refuses a second running deployment of a service, and a second queued
-- one of the same action: coalescing and ordering do not rest on luck.
CREATE UNIQUE INDEX deployments_one_running ON deployments (service) WHERE state = 'running';
CREATE UNIQUE INDEX deployments_one_queued ON deployments (service, action) WHERE state = 'queued';

CREATE TABLE deployment_logs (
  deployment_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  at TEXT NOT NULL,
  stream TEXT NOT NULL,
  line TEXT NOT NULL,
  PRIMARY KEY (deployment_id, seq)
) WITHOUT ROWID;

CREATE TABLE admin_tokens (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  last_used_at TEXT
);
