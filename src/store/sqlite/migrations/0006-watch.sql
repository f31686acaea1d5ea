-- Registry watches (PRODUCT.md section 10, src/watch/): the last check of each watched service,
-- shown by GET /api/v1/services/{name}/watch, and the lease that lets one instance check.
CREATE TABLE watch_checks (
  service TEXT PRIMARY KEY REFERENCES services (name) ON DELETE CASCADE,
  checked_at TEXT NOT NULL,
  next_at TEXT,
  outcome TEXT NOT NULL,
  answer TEXT NOT NULL,
  tag TEXT,
  digest TEXT,
  etag TEXT
);

CREATE TABLE watch_lease (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
