-- Votes on deployments awaiting approval (service deploy.approvals, PRODUCT.md section 10): who
-- (the admin token and its name then), approve or reject, why and when. One vote per token
-- and deployment; a call that changes the tag or environment deletes the votes so far.
CREATE TABLE deployment_votes (
  deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  token_id TEXT NOT NULL,
  token_name TEXT NOT NULL,
  vote TEXT NOT NULL CHECK (vote IN ('approve', 'reject')),
  note TEXT,
  at TEXT NOT NULL,
  PRIMARY KEY (deployment_id, token_id)
) WITHOUT ROWID;
