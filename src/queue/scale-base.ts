/**
 * Where a scale deployment starts and what its log says about it. A step (`+n`/`-n`, from a
 * call or asked by hand) starts from the count Deckhand last set, not from what the runtime
 * runs: a step changes the count the service should run, and the scale then converges on it,
 * so a crash-looping replica does not turn an alert's `+1` into "nothing to change". Only a
 * service whose count Deckhand never set steps from what the runtime reports.
 */
import { clampReplicas } from '../calls/plan-join.ts'
import type { DeploymentParams, Service } from '../model/index.ts'

/** What the driver sees now; undefined when it could not be asked. */
export interface ObservedReplicas {
  replicas: number | null
  ready: number | null
}

export interface ScaleRun {
  /** The count the scale starts from. */
  from: number
  /** The count it sets. */
  to: number
  /** Instances running and ready now, when the driver can tell. */
  ready: number | null
  /** For a step: its base and result, `scale +1: 2 → 3 (from the 2 replicas …)`. */
  stepLine?: string
}

export function planScaleRun(
  service: Service,
  params: DeploymentParams,
  observed: ObservedReplicas | undefined,
): ScaleRun {
  const recorded = service.replicas
  const from = recorded ?? observed?.replicas ?? service.scale.min
  const ready = observed?.ready ?? null
  if (params.replicas !== undefined) {
    return { from, to: params.replicas, ready }
  }
  const by = params.by ?? 0
  const to = clampReplicas(service, from + by)
  let base: string
  if (recorded !== null) {
    const now =
      ready === null || ready === from ? '' : `; ${ready} ${ready === 1 ? 'runs' : 'run'} now`
    base = `from the ${replicasText(from)} Deckhand last set${now}`
  } else if (observed?.replicas != null) {
    base = `from the ${replicasText(from)} the runtime runs; Deckhand has set no count`
  } else {
    base = `from scale.min (${from}); Deckhand has set no count and the runtime gives none`
  }
  const { min, max } = service.scale
  const held =
    to === from + by ? '' : to === max ? `, held at scale.max ${max}` : `, held at scale.min ${min}`
  const step = by === 0 ? 'steps that cancel out' : by > 0 ? `+${by}` : `${by}`
  return { from, to, ready, stepLine: `scale ${step}: ${from} → ${to} (${base}${held})` }
}

function replicasText(count: number): string {
  return count === 1 ? '1 replica' : `${count} replicas`
}
