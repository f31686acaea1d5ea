-- A deployment may now wait for approvals (`awaiting-approval`) or a change window or freeze
-- (`held`) before it is `queued`. Calls join whichever of these a service has, so the rule "one
-- deployment per service and action that has not started" covers all three states.
DROP INDEX deployments_one_queued;
CREATE UNIQUE INDEX deployments_one_pending ON deployments (service, action)
  WHERE state IN ('awaiting-approval', 'held', 'queued');
