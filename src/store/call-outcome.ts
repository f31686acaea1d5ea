/** What a call's intents came to, the same on every store: its outcome, status and reason. */
import type { CallInput, IntentResult, RecordedCall } from './store.ts'

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
