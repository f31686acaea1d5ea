-- Votes on deployments awaiting approval (service deploy.approvals, PRODUCT.md section 10): who
-- (the admin token and its name then), approve or reject, why and when. One vote per token
-- and deployment; a call that changes the tag or environment deletes the votes so far.
CREATE TABLE deployment_votes (
  deployment_id text NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  token_id text NOT NULL,
  token_name text NOT NULL,
  vote text NOT NULL CHECK (vote IN ('approve', 'reject')),
  note text,
  at timestamptz NOT NULL,
  PRIMARY KEY (deployment_id, token_id)
);
