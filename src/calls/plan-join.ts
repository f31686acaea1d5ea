/**
 * Coalescing: whether an incoming intent starts a new deployment, joins the one still queued
 * for its service, or has nothing to do. Pure; planAccept applies it to each intent.
 */
import type { DeploymentIntent } from '../model/call-accept.ts'
import type { Deployment, DeploymentParams, Service } from '../model/index.ts'

export type JoinDecision =
  | { kind: 'new'; params: DeploymentParams }
  | { kind: 'join'; params: DeploymentParams }
  | { kind: 'ignored'; reason: string }

export function clampReplicas(service: Service, replicas: number): number {
  return Math.min(service.scale.max, Math.max(service.scale.min, replicas))
}

/**
 * Decides what an intent does, given the deployment of the same action still queued for the
 * service (if any). Redeploys merge with the newest tag winning; scale steps add up and clamp.
 */
export function planJoin(
  service: Service,
  queued: Pick<Deployment, 'params'> | undefined,
  intent: Pick<DeploymentIntent, 'action' | 'params' | 'running'>,
): JoinDecision {
  if (intent.action !== 'scale') {
    if (!queued) {
      return { kind: 'new', params: { ...intent.params } }
    }
    return { kind: 'join', params: { ...queued.params, ...definedOnly(intent.params) } }
  }
  return planScale(service, queued?.params, intent.params, intent.running)
}

function planScale(
  service: Service,
  queued: DeploymentParams | undefined,
  incoming: DeploymentParams,
  running: number | undefined,
): JoinDecision {
  const kind = queued ? 'join' : 'new'
  if (incoming.replicas !== undefined) {
    const replicas = clampReplicas(service, incoming.replicas)
    // With nothing queued, a count the service already has would run a deployment that changes
    // nothing, unless the runtime runs fewer or more than the row says (a replica crashed,
    // one removed by hand): then the deployment converges on it.
    if (!queued && replicas === service.replicas && (running ?? replicas) === replicas) {
      return {
        kind: 'ignored',
        reason: `service ${service.name} already runs ${replicas} replicas`,
      }
    }
    return { kind, params: { replicas } }
  }
  const step = incoming.by ?? 0
  if (queued?.replicas !== undefined) {
    const replicas = clampReplicas(service, queued.replicas + step)
    if (replicas === queued.replicas) {
      return { kind: 'ignored', reason: boundReason(service, step) }
    }
    return { kind, params: { replicas } }
  }
  const pending = queued?.by ?? 0
  if (service.replicas !== null) {
    const before = clampReplicas(service, service.replicas + pending)
    if (clampReplicas(service, service.replicas + pending + step) === before) {
      return { kind: 'ignored', reason: boundReason(service, step) }
    }
  }
  return { kind, params: { by: pending + step } }
}

function boundReason(service: Service, step: number): string {
  return step > 0
    ? `service ${service.name} is already at scale.max (${service.scale.max})`
    : `service ${service.name} is already at scale.min (${service.scale.min})`
}

function definedOnly(params: DeploymentParams): DeploymentParams {
  return Object.fromEntries(
    Object.entries(params).filter(([, value]) => value !== undefined),
  ) as DeploymentParams
}
