/** The kubernetes driver's target: a Deployment or StatefulSet by name or label selector. */
import { DeckhandError } from '../../errors.ts'
import { isSameRepository } from '../../model/image-reference.ts'
import type { Container, LabelSelector } from './kubernetes-client.ts'

// Declared here, not in kubernetes-client.ts: checking a target (config validate, the API)
// must not load @kubernetes/client-node, which costs ~48 MB of RSS when the driver is off.
export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet'] as const
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number]

export interface KubernetesTarget {
  namespace: string
  kind: WorkloadKind
  /** One workload by name, or … */
  name: string | null
  /** … every workload of `kind` in `namespace` whose labels match. */
  selector: Record<string, string> | null
  /** A kubeconfig context for this service only; default the driver's. */
  context: string | null
}

const FIELDS = ['namespace', 'kind', 'name', 'selector', 'context']
const SHAPE =
  '{"namespace": "default", "kind": "Deployment", "name": "web"} or {"namespace": …, "kind": …, "selector": {"app": "web"}}'
// RFC 1123 labels and subdomains, as the API server validates namespace and object names.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/

/** Problems with a kubernetes target, as sentences naming the field; empty when valid. */
export function checkKubernetesTarget(target: Record<string, unknown>): string[] {
  const problems = Object.keys(target)
    .filter((key) => !FIELDS.includes(key))
    .map((key) => `target.${key} is not a kubernetes target field; a kubernetes target is ${SHAPE}`)
  const { namespace, kind, name, selector, context } = target
  if (typeof namespace !== 'string' || !DNS_LABEL.test(namespace)) {
    problems.push('target.namespace must be a namespace name, such as "default"')
  }
  if (!WORKLOAD_KINDS.includes(kind as WorkloadKind)) {
    problems.push(
      `target.kind must be one of ${WORKLOAD_KINDS.join(', ')}; found ${JSON.stringify(kind)}`,
    )
  }
  if (name !== undefined && selector !== undefined) {
    problems.push('target.name and target.selector cannot both be set; choose one')
  } else if (name === undefined && selector === undefined) {
    problems.push(
      'target.name (a workload name) or target.selector (labels such as {"app": "web"}) is required',
    )
  }
  if (name !== undefined && (typeof name !== 'string' || !DNS_SUBDOMAIN.test(name))) {
    problems.push('target.name must be a Deployment or StatefulSet name, such as "web"')
  }
  if (selector !== undefined) {
    const entries =
      selector !== null && typeof selector === 'object' && !Array.isArray(selector)
        ? Object.entries(selector)
        : []
    if (entries.length === 0) {
      problems.push('target.selector must be a non-empty object of labels, such as {"app": "web"}')
    }
    for (const [key, value] of entries) {
      if (!LABEL_KEY.test(key) || typeof value !== 'string' || !LABEL_VALUE.test(value)) {
        problems.push(`target.selector.${key} must be a label key with a string label value`)
      }
    }
  }
  if (context !== undefined && (typeof context !== 'string' || context === '')) {
    problems.push('target.context must name a context of the kubeconfig')
  }
  return problems
}

/** The checked target; throws DH_ERR_DRIVER_TARGET with every problem when it is not valid. */
export function parseKubernetesTarget(target: Record<string, unknown>): KubernetesTarget {
  const problems = checkKubernetesTarget(target)
  if (problems.length > 0) {
    throw new DeckhandError('DH_ERR_DRIVER_TARGET', problems.join('; '))
  }
  return {
    namespace: String(target.namespace),
    kind: target.kind as WorkloadKind,
    name: typeof target.name === 'string' ? target.name : null,
    selector: (target.selector as Record<string, string> | undefined) ?? null,
    context: typeof target.context === 'string' ? target.context : null,
  }
}

/** A LabelSelector in the `labelSelector` query syntax of the list endpoints. */
export function selectorString(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`)
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const list = `(${values.join(',')})`
    parts.push(
      operator === 'In'
        ? `${key} in ${list}`
        : operator === 'NotIn'
          ? `${key} notin ${list}`
          : operator === 'Exists'
            ? key
            : `!${key}`,
    )
  }
  return parts.join(',')
}

/**
 * The container a tag or environment change applies to: the one running the service's image
 * repository, else the only one; throws a message naming the choices when it cannot tell.
 */
export function chooseContainer(
  containers: Container[],
  image: string | null,
  workload: string,
): Container {
  if (image !== null) {
    const matching = containers.filter((c) => isSameRepository(c.image ?? '', image))
    if (matching.length === 1) {
      return matching[0]!
    }
  }
  if (containers.length === 1) {
    return containers[0]!
  }
  const choices = containers.map((c) => `${c.name} (${c.image ?? 'no image'})`).join(', ')
  throw new DeckhandError(
    'DH_ERR_DRIVER_TARGET',
    `${workload} has ${containers.length} containers and none runs the service's image ${image ?? '(the service sets no image)'}; ` +
      `set the service's image to the repository of one of: ${choices}`,
  )
}
