// The admin API's shapes as the UI reads them (PRODUCT.md section 5a): the types of the server's
// own views, imported as types only, so a field the server changes fails the UI's typecheck and
// the bundle takes none of the server's code (docs/architecture.md, "The web UI").
import type { ReplicaStatus, ServiceStatus } from '../../src/drivers/driver.ts'
import type { ApprovalsView } from '../../src/http/api/approvals-view.ts'
import type { CallView } from '../../src/http/api/calls.ts'
import type { DeploymentCause, DeploymentView } from '../../src/http/api/deployments.ts'
import { type DeploymentState, FINAL_STATES } from '../../src/model/index.ts'
import type { ServiceView } from '../../src/specs/service-spec.ts'
import type { TriggerView } from '../../src/specs/trigger-spec.ts'

export type { DeploymentCause, DeploymentState }
export type { LogLine, Page, Stack } from '../../src/model/index.ts'

export type DeployPolicy = ServiceView['deploy']

export type ChangeWindow = NonNullable<DeployPolicy['windows']>[number]

/** A trigger's `match` as views show it: a group of nodes, or one condition. */
export type CallMatch = NonNullable<TriggerView['match']>

export type Service = ServiceView & {
  /** Only on GET /services/{name}: what the driver sees, or why it could not be asked. */
  status?: Partial<ServiceStatus> & { error?: string }
}

export type Instance = ReplicaStatus

export type Trigger = TriggerView

export type Approvals = ApprovalsView

export type Deployment = DeploymentView & {
  /** Only on GET /deployments/{id}: why it exists. */
  cause?: DeploymentCause
  /** On GET /deployments/{id} and votes: the service's deploy.approvals and the votes cast. */
  approvals?: Approvals
}

export type Call = CallView

/** While a service is frozen: until when (null: until unfrozen), why, by whom, since when. */
export type ServiceFreeze = NonNullable<Service['freeze']>

/** While a deployment is held: why, and until when (null while a freeze has no end). */
export type DeploymentHold = NonNullable<Deployment['hold']>

/** Where a trigger belongs: the API path segment and the owner's name. */
export interface TriggerOwner {
  kind: 'services' | 'stacks'
  name: string
}

export function isFinal(state: DeploymentState): boolean {
  return FINAL_STATES.includes(state)
}
