/** A deployment asked for by hand (API, CLI, UI) turned into the same intent a call makes. */
import type { DeploymentIntent } from '../model/call-accept.ts'
import { noCallInput, type Service } from '../model/index.ts'
import { refuseTag } from '../policy/tag-policy.ts'
import { isRecord } from '../specs/problems.ts'

export const manualDeploymentSchema = {
  $id: 'ManualDeployment',
  type: 'object',
  additionalProperties: false,
  properties: {
    action: { type: 'string', enum: ['redeploy', 'scale', 'scale-up', 'scale-down'] },
    tag: { type: 'string' },
    replicas: { type: 'integer', minimum: 0 },
    by: { type: 'integer', minimum: 1 },
  },
} as const

/** `canChangeTag` is the service driver's: a tag it cannot run is refused, never dropped. */
export function planManual(
  service: Service,
  body: unknown,
  canChangeTag: boolean,
): { ok: true; intent: DeploymentIntent } | { ok: false; error: string } {
  const request = isRecord(body) ? body : {}
  const action = request.action ?? 'redeploy'
  const base = {
    service: service.name,
    input: noCallInput(),
    triggerId: null,
  }
  if (action === 'redeploy') {
    if (request.tag === undefined) {
      return { ok: true, intent: { ...base, action: 'redeploy', params: {} } }
    }
    const tag = String(request.tag)
    if (!canChangeTag) {
      return {
        ok: false,
        error:
          `tag cannot be applied: service ${service.name} runs on the ${service.driver} driver, ` +
          'which cannot change image tags; redeploy without a tag',
      }
    }
    const refused = refuseTag(service, tag)
    if (refused !== undefined) {
      return { ok: false, error: `tag refused: ${refused}` }
    }
    return { ok: true, intent: { ...base, action: 'redeploy', params: { tag } } }
  }
  if (action === 'scale' && typeof request.replicas === 'number') {
    const { min, max } = service.scale
    if (request.replicas < min || request.replicas > max) {
      return {
        ok: false,
        error: `replicas must be within scale.min..scale.max (${min}..${max}); got ${request.replicas}`,
      }
    }
    return {
      ok: true,
      intent: { ...base, action: 'scale', params: { replicas: request.replicas } },
    }
  }
  if (action === 'scale-up' || action === 'scale-down') {
    const by = typeof request.by === 'number' ? request.by : 1
    return {
      ok: true,
      intent: { ...base, action: 'scale', params: { by: action === 'scale-up' ? by : -by } },
    }
  }
  return {
    ok: false,
    error:
      'expected {"action":"redeploy","tag"?}, {"action":"scale","replicas":n} or {"action":"scale-up"|"scale-down","by"?}',
  }
}
