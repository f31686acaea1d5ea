/** What a call's intents came to, the same on every store: its outcome, status and reason. */
import type { Call } from '../model/index.ts'
import type { CallInput, IntentResult, RecordedCall } from './store.ts'

/** A call its trigger's cooldown stops: recorded as ignored, with no deployment. */
export function cooledDown(call: CallInput, cooldownMs: number): { recorded: RecordedCall; deploymentIds: string[] } {
  const reason = `cooldown: the last scale step was less than ${cooldownMs / 1000}s ago`
  return { recorded: { ...call, outcome: 'ignored', status: 200, reason }, deploymentIds: [] }
}

/** A redelivery of `first`: recorded as its duplicate, answered as it was. */
export function redelivery(call: CallInput, first: Call): { recorded: RecordedCall; deploymentIds: string[] } {
  return {
    recorded: { ...call, outcome: 'duplicate', status: first.status, reason: `redelivery of call ${first.id}` },
    deploymentIds: first.deploymentIds,
  }
}

export function callOutcome(call: CallInput, results: IntentResult[]): { recorded: RecordedCall; deploymentIds: string[] } {
  const deploymentIds = results.flatMap((r) => (r.kind === 'ignored' ? [] : [r.deployment.id]))
  const outcome = results.some((r) => r.kind === 'queued')
    ? 'queued'
    : results.some((r) => r.kind === 'coalesced')
      ? 'coalesced'
      : 'ignored'
  const reason =
    outcome === 'ignored'
      ? results.map((r) => (r.kind === 'ignored' ? r.reason : '')).filter(Boolean).join('; ') || 'nothing to deploy'
      : (call.reason ?? null)
  return { recorded: { ...call, outcome, status: outcome === 'ignored' ? 200 : 202, reason }, deploymentIds }
}
