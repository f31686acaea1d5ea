-- Registry watches (PRODUCT.md section 10, src/watch/): the last check of each watched service,
-- shown by GET /api/v1/services/{name}/watch, and the lease that lets one instance check.
CREATE TABLE watch_checks (
  service text PRIMARY KEY REFERENCES services (name) ON DELETE CASCADE,
  checked_at timestamptz NOT NULL,
  next_at timestamptz,
  outcome text NOT NULL,
  answer text NOT NULL,
  tag text,
  digest text,
  etag text
);

CREATE TABLE watch_lease (
  name text PRIMARY KEY,
  owner text NOT NULL,
  expires_at timestamptz NOT NULL
);
