/**
 * Step 2 of a call: from the facts its transaction read to the rows it writes. Pure, and the
 * same on every store: delivery de-duplication, the cooldown, joining queued deployments
 * (plan-join.ts) and the call's outcome are decided here and nowhere else.
 */
import type {
  AcceptOptions,
  CallInput,
  DeploymentIntent,
  IntentResult,
  RecordedCall,
} from '../model/call-accept.ts'
import { newId } from '../model/ids.ts'
import type { Call, Deployment, DeploymentAction, Service, Trigger } from '../model/index.ts'
import { votedChange } from '../release/approvals.ts'
import { entryState } from '../release/entry-state.ts'
import { holdFor } from '../release/hold.ts'
import { planJoin } from './plan-join.ts'

/** How long a delivery id is remembered: a sender's redelivery within this is a duplicate. */
export const DELIVERY_WINDOW_MS = 24 * 3_600_000

/** One call and what it asks for, as the store receives it. */
export interface AcceptItem {
  call: CallInput
  intents: DeploymentIntent[]
  options: AcceptOptions | undefined
}

/** What the call's transaction read, under the locks that keep it true until the commit. */
export interface AcceptFacts {
  /** The first call of this delivery within the window (read when `deliverySince` is set). */
  firstOfDelivery: Call | undefined
  /**
   * How long ago the trigger last queued or joined a deployment, by the store's clock; read
   * when `cooldownMs` is set, undefined when it never did.
   */
  sinceLastStepMs: number | undefined
  /** The services the intents name, as of this transaction; a missing one does not exist. */
  services: ReadonlyMap<string, Service>
  /** The deployment queued for each service and action (keys from queueKey). */
  queued: ReadonlyMap<string, Deployment>
  /** When the transaction runs (ISO): the new deployments' createdAt. */
  at: string
}

/** What to write for a call, and what to answer for it. */
export interface AcceptPlan {
  call: RecordedCall
  deploymentIds: string[]
  /** New deployments (queued, or awaiting approval), to insert. */
  inserts: Deployment[]
  /** Queued deployments the call joined, with their new params, input and calls, to update. */
  joins: Deployment[]
  /**
   * Deployments awaiting approval whose tag or environment the call changed: their votes are
   * dropped in the same write, and their log says why.
   */
  voteResets: VoteReset[]
  results: IntentResult[]
  /** The first call of this delivery, when this call is its duplicate. */
  duplicateOf?: Call
}

/** Votes a joining call made void: what was voted on is not what would run. */
export interface VoteReset {
  deploymentId: string
  /** What changed, for the deployment's log (never an environment value). */
  reason: string
}

/** The key of `queued` facts: one queued deployment per service and action. */
export function queueKey(service: string, action: DeploymentAction): string {
  return `${service}\n${action}`
}

/**
 * The facts a trigger's call asks the store to read: the delivery window when it carries a
 * delivery id, and a scale trigger's cooldown (a redeploy has none: its calls join).
 */
export function acceptOptions(
  trigger: Trigger,
  deliveryId: string | null,
  now = Date.now(),
): AcceptOptions {
  return {
    cooldownMs: trigger.action === 'redeploy' ? 0 : trigger.cooldownMs,
    ...(deliveryId === null ? {} : { deliverySince: deliverySince(now) }),
  }
}

/** The start of the delivery window ending `now` (ISO). */
export function deliverySince(now = Date.now()): string {
  return new Date(now - DELIVERY_WINDOW_MS).toISOString()
}

/**
 * Plans one call: a redelivery is recorded as its first call's duplicate; a call within its
 * trigger's cooldown is ignored; otherwise each intent starts, joins or skips a deployment.
 * `newDeploymentId` is a parameter so tables can name the rows they expect.
 */
export function planAccept(
  { call, intents, options }: AcceptItem,
  facts: AcceptFacts,
  newDeploymentId: () => string = () => newId('dpl'),
): AcceptPlan {
  if (facts.firstOfDelivery) {
    const first = facts.firstOfDelivery
    const { recorded, deploymentIds } = redelivery(call, first)
    return {
      call: recorded,
      deploymentIds,
      inserts: [],
      joins: [],
      voteResets: [],
      results: [],
      duplicateOf: first,
    }
  }
  const cooldownMs = options?.cooldownMs ?? 0
  if (cooldownMs > 0 && facts.sinceLastStepMs !== undefined && facts.sinceLastStepMs < cooldownMs) {
    const { recorded, deploymentIds } = cooledDown(call, cooldownMs)
    return { call: recorded, deploymentIds, inserts: [], joins: [], voteResets: [], results: [] }
  }
  // What this call has queued or joined so far: a later intent of the same key joins it.
  const queued = new Map<string, { deployment: Deployment; isNew: boolean }>()
  const voteResets: VoteReset[] = []
  const results = intents.map((intent): IntentResult => {
    const service = facts.services.get(intent.service)
    if (!service) {
      const reason = `service ${intent.service} does not exist`
      return { kind: 'ignored', service: intent.service, reason }
    }
    const key = queueKey(intent.service, intent.action)
    const mine = queued.get(key)
    const current = mine?.deployment ?? facts.queued.get(key)
    const decision = planJoin(service, current, intent)
    if (decision.kind === 'ignored') {
      return { kind: 'ignored', service: intent.service, reason: decision.reason }
    }
    if (decision.kind === 'join' && current) {
      // The newest call's input wins: a deployment runs with what its last call carried.
      const { params } = decision
      const joined = { ...current, params, input: intent.input, calls: current.calls + 1 }
      const changed = current.state === 'awaiting-approval' && votedChange(current, joined)
      if (changed && !mine?.isNew) {
        voteResets.push({ deploymentId: current.id, reason: changed })
      }
      queued.set(key, { deployment: joined, isNew: mine?.isNew ?? false })
      return { kind: 'coalesced', deployment: joined }
    }
    const state = entryState(service, options?.now ?? Date.parse(facts.at))
    const hold = state === 'queued' ? holdFor(service, options?.now ?? Date.parse(facts.at)) : null
    const deployment: Deployment = newDeployment(
      newDeploymentId(),
      hold ? 'held' : state,
      intent,
      decision.params,
      facts.at,
    )
    if (hold) {
      deployment.hold = hold
    }
    queued.set(key, { deployment, isNew: true })
    return { kind: 'queued', deployment }
  })
  const { recorded, deploymentIds } = callOutcome(call, results)
  const rows = [...queued.values()]
  return {
    call: recorded,
    deploymentIds,
    inserts: rows.filter((row) => row.isNew).map((row) => row.deployment),
    joins: rows.filter((row) => !row.isNew).map((row) => row.deployment),
    voteResets,
    results,
  }
}

function newDeployment(
  id: string,
  state: Deployment['state'],
  intent: DeploymentIntent,
  params: Deployment['params'],
  at: string,
): Deployment {
  return {
    id,
    service: intent.service,
    action: intent.action,
    state,
    params,
    input: intent.input,
    calls: 1,
    triggerId: intent.triggerId,
    createdAt: at,
    startedAt: null,
    finishedAt: null,
    error: null,
    image: null,
    digest: null,
    owner: null,
    leaseExpiresAt: null,
    cancelRequested: false,
  }
}

/** The row of a call, and the deployments it names. */
type CallRow = { recorded: RecordedCall; deploymentIds: string[] }

/** A call its trigger's cooldown stops: recorded as ignored, with no deployment. */
function cooledDown(call: CallInput, cooldownMs: number): CallRow {
  const reason = `cooldown: the last scale step was less than ${cooldownMs / 1000}s ago`
  return { recorded: { ...call, outcome: 'ignored', status: 200, reason }, deploymentIds: [] }
}

/** A redelivery of `first`: recorded as its duplicate, answered as it was. */
export function redelivery(call: CallInput, first: Call): CallRow {
  const reason = `redelivery of call ${first.id}`
  return {
    recorded: { ...call, outcome: 'duplicate', status: first.status, reason },
    deploymentIds: first.deploymentIds,
  }
}

function callOutcome(call: CallInput, results: IntentResult[]): CallRow {
  // Two intents joined into one deployment name it once.
  const ids = results.flatMap((r) => (r.kind === 'ignored' ? [] : [r.deployment.id]))
  const deploymentIds = [...new Set(ids)]
  const outcome = results.some((r) => r.kind === 'queued')
    ? 'queued'
    : results.some((r) => r.kind === 'coalesced')
      ? 'coalesced'
      : 'ignored'
  const reason =
    outcome === 'ignored'
      ? results
          .map((r) => (r.kind === 'ignored' ? r.reason : ''))
          .filter(Boolean)
          .join('; ') || 'nothing to deploy'
      : (call.reason ?? null)
  const status = outcome === 'ignored' ? 200 : 202
  return { recorded: { ...call, outcome, status, reason }, deploymentIds }
}
