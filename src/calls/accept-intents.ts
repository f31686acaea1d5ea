/**
 * Step 3 of a call: commit it with its intents and announce what it queued. The one way calls
 * reach the store, for trigger calls and deployments asked for through the API alike (and for
 * a registry watch, when one exists): each store's acceptCall locks, reads the facts,
 * planAccept decides, the store writes.
 */
import type { EventBus } from '../events.ts'
import type {
  AcceptOptions,
  AcceptResult,
  CallInput,
  DeploymentIntent,
  RecordedCall,
} from '../model/call-accept.ts'
import type { Call } from '../model/index.ts'
import type { CallStore } from '../store/store.ts'

export interface CallDeps {
  store: CallStore
  events: EventBus
}

/**
 * Records `call` and queues or joins a deployment for each intent, in one durable commit, then
 * announces the call and every deployment it queued (a joined one was announced when queued).
 */
export async function acceptIntents(
  deps: CallDeps,
  call: CallInput,
  intents: DeploymentIntent[],
  options?: AcceptOptions,
): Promise<AcceptResult> {
  const result = await deps.store.acceptCall(call, intents, options)
  deps.events.emit('call:recorded', { call: result.call })
  for (const r of result.results) {
    if (r.kind === 'queued') {
      deps.events.emit('deployment:queued', { deployment: r.deployment })
    }
  }
  return result
}

/** Records a call that queues nothing (ignored, rejected, duplicate) and announces it. */
export async function recordCall(
  deps: CallDeps,
  call: RecordedCall,
  deploymentIds: string[] = [],
): Promise<Call> {
  const recorded = await deps.store.recordCall(call, deploymentIds)
  deps.events.emit('call:recorded', { call: recorded })
  return recorded
}
