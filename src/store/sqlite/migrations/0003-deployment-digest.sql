-- What a deployment ran: the image reference and the manifest digest its tag named then
-- (PRODUCT.md section 10). Rollbacks go back to the previous digest, not its tag.
ALTER TABLE deployments ADD COLUMN image TEXT;
ALTER TABLE deployments ADD COLUMN digest TEXT;
