/**
 * What accepting a call passes between its steps (src/calls/) and the store: the intents a
 * call resolved to, the call's record, and what came of each intent.
 */
import type {
  Call,
  CallOutcome,
  Deployment,
  DeploymentAction,
  DeploymentInput,
  DeploymentParams,
} from './index.ts'

/** One deployment a call asks for, before it is queued or joined. */
export interface DeploymentIntent {
  service: string
  action: DeploymentAction
  params: DeploymentParams
  input: DeploymentInput
  triggerId: string | null
  /**
   * For a scale: the replicas the runtime runs now (the driver's `ready`), when the caller
   * asked it. A count the service row records but the runtime does not run is not "nothing
   * to do"; absent, the row's count is taken at its word.
   */
  running?: number
}

/** The call's own record; the store fills in outcome and deployments when it accepts. */
export interface CallInput {
  id: string
  triggerId: string | null
  sender: string | null
  deliveryId: string | null
  remoteAddress: string | null
  /** What drove an accepted call (e.g. its alerts); ignored calls record why instead. */
  reason?: string | null
}

/** How a call is accepted, beyond its intents: which facts the store reads for planAccept. */
export interface AcceptOptions {
  /**
   * A scale trigger's cooldown: the call is recorded as ignored when its trigger queued or
   * joined a deployment less than this long ago. Checked inside the commit, after every call
   * committed before it, so concurrent calls (an Alertmanager pair sending the same alert)
   * cannot both pass.
   */
  cooldownMs?: number
  /**
   * The instant (ms) change windows and freezes are judged at; the transaction's time when
   * absent. The server's injectable clock, so tests can ask about a Saturday on a Tuesday.
   */
  now?: number
  /**
   * For a call with a delivery id: a call of the same trigger with that delivery id received
   * since this time (ISO) makes this one its duplicate (`AcceptResult.duplicateOf`). Checked
   * inside the commit, so a redelivery sent while the first is still being accepted is caught.
   */
  deliverySince?: string
}

export interface RecordedCall extends CallInput {
  outcome: CallOutcome
  status: number
  reason: string | null
}

/** What accepting did for each intent. */
export type IntentResult =
  | { kind: 'queued' | 'coalesced'; deployment: Deployment }
  | { kind: 'ignored'; service: string; reason: string }

export interface AcceptResult {
  call: Call
  results: IntentResult[]
  /** The first call of this delivery, when this call was recorded as its duplicate. */
  duplicateOf?: Call
}
