/** The patches a redeploy sends: restart annotation, image and env forward; the old template back. */
import { withTag } from '../../model/image-reference.ts'
import type { Service } from '../../model/index.ts'
import type { RedeployChange } from '../driver.ts'
import type { EnvVar, PodTemplate, Workload } from './kubernetes-client.ts'
import { chooseContainer } from './kubernetes-target.ts'

/** The pod template annotation whose change makes the controller replace every pod. */
export const RESTARTED_AT = 'deckhand.dev/restartedAt'

export interface RedeployPlan {
  /** A strategic merge patch of the workload (containers and env merge by `name`). */
  patch: unknown
  /** The template before the patch, restored on rollback as `kubectl rollout undo` does. */
  previousTemplate: PodTemplate
  /** The annotation value this redeploy sets, which the rollback tests before it replaces. */
  restartedAt: string
  /** One line for the deployment log saying what changes. */
  summary: string
}

/**
 * The strategic merge patch of one workload for `change`. The container is chosen only when the
 * change touches one (a tag or env); a plain restart patches the annotation alone, the way
 * `kubectl rollout restart` patches `kubectl.kubernetes.io/restartedAt`.
 */
export function planRedeploy(
  workload: Workload,
  label: string,
  service: Service,
  change: RedeployChange,
  restartedAt: string,
): RedeployPlan {
  const template = workload.spec?.template ?? {}
  const patchTemplate: Record<string, unknown> = {
    metadata: { annotations: { [RESTARTED_AT]: restartedAt } },
  }
  const names = Object.keys(change.env)
  const changes = [`${RESTARTED_AT}=${restartedAt}`]
  if (change.tag !== undefined || names.length > 0) {
    const container = chooseContainer(template.spec?.containers ?? [], service.image, label)
    const patched: Record<string, unknown> = { name: container.name }
    if (change.tag !== undefined) {
      patched.image = withTag(container.image ?? '', service.image, change.tag)
      changes.push(
        `container ${container.name} image ${container.image} → ${String(patched.image)}`,
      )
    }
    if (names.length > 0) {
      const existing = new Map((container.env ?? []).map((entry) => [entry.name, entry]))
      patched.env = names.map((name): EnvVar & { valueFrom?: null } =>
        // A variable that came from a Secret or ConfigMap must lose valueFrom: the API server
        // refuses an env entry with both value and valueFrom.
        existing.get(name)?.valueFrom !== undefined
          ? { name, value: change.env[name]!, valueFrom: null }
          : { name, value: change.env[name]! },
      )
      changes.push(`container ${container.name} env ${names.join(', ')}`)
    }
    patchTemplate.spec = { containers: [patched] }
  }
  return {
    patch: { spec: { template: patchTemplate } },
    previousTemplate: structuredClone(template),
    restartedAt,
    summary: `patching ${label}: ${changes.join('; ')}`,
  }
}

/**
 * A JSON patch that puts the previous template back, but only while the template still carries
 * this redeploy's annotation: the `test` op makes the API server refuse (422) when someone
 * else has patched the workload since, so a rollback never undoes their change.
 */
export function rollbackPatch(plan: RedeployPlan): unknown[] {
  return [
    {
      op: 'test',
      path: `/spec/template/metadata/annotations/${RESTARTED_AT.replace('/', '~1')}`,
      value: plan.restartedAt,
    },
    { op: 'replace', path: '/spec/template', value: plan.previousTemplate },
  ]
}
