/**
 * From a call to intents: which services a trigger's call deploys, with which action, tag and
 * environment; or why it has nothing to do. Pure: the services are already loaded.
 */
import type { DeploymentInput, DeploymentParams, Service, Trigger } from '../model/index.ts'
import { parseTagPolicy } from '../policy/tag-policy.ts'
import type { SenderEvent } from '../senders/sender.ts'
import type { DeploymentIntent } from '../store/store.ts'
import { beforeAt } from '../senders/sender-payload.ts'
import { registryHostOf } from '../model/registry-host.ts'
import { matchesGlob } from './path-match.ts'

/** Bodies larger than this are not passed to instances (PRODUCT.md section 4). */
export const MAX_PASSED_BODY_BYTES = 64 * 1024
const MAX_QUERY_ENV_CHARS = 4096

export interface ResolveInput {
  trigger: Trigger
  event: SenderEvent
  query: Readonly<Record<string, string | undefined>>
  /** The trigger's services that exist, in order (one for a service trigger). */
  services: Service[]
  body: Buffer
}

export type Resolution =
  | {
      kind: 'intents'
      intents: DeploymentIntent[]
      skipped: { service: string; reason: string }[]
      /** What the call log should say drove the deployments (the alerts of a scale step). */
      note?: string
    }
  | { kind: 'ignored'; reason: string }

export function resolveCall({ trigger, event, query, services, body }: ResolveInput): Resolution {
  const step = stepFor(trigger, event)
  if (typeof step === 'string') {
    return { kind: 'ignored', reason: step }
  }
  const queryTag = trigger.allowTag && query.tag ? query.tag : undefined
  const input = deploymentInput(trigger, event, query, body)
  const intents: DeploymentIntent[] = []
  const skipped: { service: string; reason: string }[] = []
  const matching = {
    git: services.some((service) => service.git),
    image: services.some((service) => service.image),
  }
  for (const service of services) {
    const own = pushFor(service, event)
    const reason = mismatch(service, own, matching)
    if (reason) {
      skipped.push({ service: service.name, reason })
      continue
    }
    let params: DeploymentParams = {}
    const tag = queryTag ?? own.tag
    if (step === 0) {
      if (tag !== undefined) {
        const refused = refuseTag(service, tag)
        if (refused) {
          skipped.push({ service: service.name, reason: refused })
          continue
        }
        params = { tag }
      }
    } else {
      params = { by: step }
    }
    intents.push({ service: service.name, action: step === 0 ? 'redeploy' : 'scale', params, input, triggerId: trigger.id })
  }
  if (intents.length === 0) {
    return { kind: 'ignored', reason: skipped.map((s) => `${s.service}: ${s.reason}`).join('; ') || 'the trigger has no services' }
  }
  const note = alertNote(event)
  return { kind: 'intents', intents, skipped, ...(note ? { note } : {}) }
}

const MAX_NOTED_ALERTS = 10

/** `firing: HighRequestLatency (web-1:8080), …`: the alerts whose status is the group's. */
function alertNote(event: SenderEvent): string | undefined {
  if (event.kind !== 'alert' || !event.alerts) {
    return undefined
  }
  const driving = event.alerts.filter((alert) => alert.status === event.alertStatus)
  const names = driving
    .slice(0, MAX_NOTED_ALERTS)
    .map((alert) => (alert.labels.instance ? `${alert.name} (${alert.labels.instance})` : alert.name))
  const more = driving.length > MAX_NOTED_ALERTS ? ` and ${driving.length - MAX_NOTED_ALERTS} more` : ''
  return `${event.alertStatus}: ${names.join(', ') || 'no alerts listed'}${more}`
}

/** 0 for a redeploy, a signed replica step for scaling, or the reason there is nothing to do. */
function stepFor(trigger: Trigger, event: SenderEvent): number | string {
  if (event.kind === 'ping') {
    return 'ping: the sender checked the URL; nothing to deploy'
  }
  if (trigger.action === 'redeploy') {
    return 0
  }
  const sign = trigger.action === 'scale-up' ? 1 : -1
  if (event.kind === 'alert' && event.alertStatus === 'resolved') {
    return trigger.reverseOnResolve ? -sign * trigger.by : 'alert resolved; the trigger does not reverse on resolve'
  }
  return sign * trigger.by
}

/**
 * The event as this service sees it: of a call that carries several pushes (a registry's
 * batch), the last push of the service's own image; the event itself otherwise.
 */
function pushFor(service: Service, event: SenderEvent): SenderEvent {
  const serviceImage = service.image
  if (event.pushes === undefined || !serviceImage) {
    return event
  }
  const own = event.pushes.findLast((push) => imageMismatch(serviceImage, push) === undefined)
  // No push of its image: the event stays whole, and the mismatch names every push.
  return own === undefined
    ? event
    : { ...event, pushes: undefined, image: own.image, tag: own.tag, registry: own.registry }
}

/**
 * Why an event is not for this service: another repository, branch, image or paths. When some
 * of the trigger's services follow git, a git push (repository, no image) is only for those,
 * as on Cloud 66; likewise a registry push is only for the services that name an image. A
 * trigger with no such service redeploys on any push.
 */
function mismatch(
  service: Service,
  event: SenderEvent,
  matching: { git: boolean; image: boolean },
): string | undefined {
  if (!service.git && matching.git && event.repository && !event.image) {
    return `push to ${event.repository}, service has no git source`
  }
  if (!service.image && matching.image && event.image) {
    return `image ${event.image} was pushed, service names no image`
  }
  if (service.git && event.repository) {
    if (repositoryName(event.repository) !== repositoryName(service.git.repo)) {
      return `push to ${event.repository}, service follows ${service.git.repo}`
    }
    if (service.git.branch && event.branch && event.branch !== service.git.branch) {
      return `push to branch ${event.branch}, service follows ${service.git.branch}`
    }
    if (service.git.paths?.length && event.changedFiles) {
      const patterns = service.git.paths
      if (!event.changedFiles.some((file) => patterns.some((pattern) => matchesGlob(pattern, file)))) {
        return `no changed file matches git.paths (${patterns.join(', ')})`
      }
    }
  }
  if (service.image && event.pushes) {
    return `images ${event.pushes.map(pushedImage).join(', ')} were pushed, service runs ${service.image}`
  }
  if (service.image && event.image) {
    return imageMismatch(service.image, event)
  }
  return undefined
}

/**
 * Why a pushed image is not the service's: another repository or, when the sender names the
 * registry (`request.host` of a distribution event), another registry host.
 */
function imageMismatch(
  serviceImage: string,
  push: { image?: string; registry?: string },
): string | undefined {
  const image = push.image ?? ''
  const sameRegistry = push.registry === undefined || push.registry === registryHostOf(serviceImage)
  if (!sameRegistry || normaliseImage(image) !== normaliseImage(serviceImage)) {
    return `image ${pushedImage(push)} was pushed, service runs ${serviceImage}`
  }
  return undefined
}

function pushedImage(push: { image?: string; registry?: string }): string {
  return push.registry === undefined ? (push.image ?? '') : `${push.registry}/${push.image ?? ''}`
}

function refuseTag(service: Service, tag: string): string | undefined {
  const policy = parseTagPolicy(service.tagPolicy)
  if (!policy.ok) {
    return policy.error
  }
  const verdict = policy.policy.allows(service.tag, tag)
  return verdict.ok ? undefined : verdict.reason
}

/**
 * The image's repository path: `docker.io/library/nginx` and `nginx` are one image, and
 * `ghcr.io/acme/web:1` is `acme/web`, because senders name the repository without the
 * registry host (ACR says `web` for `acmeregistry.azurecr.io/web`). The first segment is a
 * host when it has a dot or a port, or is `localhost`, as in Docker's reference grammar.
 */
export function normaliseImage(image: string): string {
  // Index look-ups, not `/@.*$/` and `/:[^/]*$/`: those are retried at every `@` or `:` of a run.
  const segments = beforeAt(image.toLowerCase()).split('/')
  const first = segments[0] ?? ''
  if (segments.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    segments.shift()
  }
  const joined = segments.join('/')
  const colon = joined.indexOf(':', joined.lastIndexOf('/') + 1)
  const path = colon === -1 ? joined : joined.slice(0, colon)
  return path.startsWith('library/') ? path.slice('library/'.length) : path
}

function deploymentInput(
  trigger: Trigger,
  event: SenderEvent,
  query: Readonly<Record<string, string | undefined>>,
  body: Buffer,
): DeploymentInput {
  const env: Record<string, string> = {}
  for (const name of trigger.envFromQuery) {
    // Own properties only: a name such as `toString` must not read Object.prototype.
    const value = Object.hasOwn(query, name) ? query[name] : undefined
    if (typeof value === 'string' && value.length <= MAX_QUERY_ENV_CHARS && !value.includes('\0')) {
      env[name] = value
    }
  }
  // Measured after decoding: each invalid byte becomes a three-byte U+FFFD, so a body under the
  // limit in bytes could pass three times the limit to a child's environment (spawn E2BIG).
  const passed = trigger.passBody && body.length > 0 ? body.toString('utf8').replaceAll('\0', '') : null
  const bodyTooLarge = passed !== null && Buffer.byteLength(passed) > MAX_PASSED_BODY_BYTES
  return {
    triggerName: trigger.name,
    env,
    body: bodyTooLarge ? null : passed,
    bodyTooLarge,
    gitCommit: event.commit ?? null,
    gitBranch: event.branch ?? null,
    gitRepository: event.repository ?? null,
    callbackUrl: event.callbackUrl ?? null,
  }
}

/**
 * `acme/web`, `https://github.com/acme/web.git` and `git@github.com:acme/web.git` name one
 * repository: the host, scheme and `.git` are dropped and case is ignored. Paths stay paths.
 */
export function repositoryName(repository: string): string {
  const lower = repository.trim().toLowerCase()
  const text = trimTrailingSlashes(lower.endsWith('.git') ? lower.slice(0, -'.git'.length) : lower)
  if (text.startsWith('file://') || text.startsWith('/')) {
    return text.replace(/^file:\/\//, '')
  }
  const withoutScheme = text.replace(/^[a-z+]+:\/\/(?:[^@/]+@)?[^/]+\//, '').replace(/^[^@/]+@[^:/]+:/, '')
  return withoutScheme
}

/** `text` without trailing `/`, in one pass (see trimSlashes); a leading `/` is a path's root. */
function trimTrailingSlashes(text: string): string {
  let end = text.length
  while (end > 0 && text[end - 1] === '/') {
    end--
  }
  return text.slice(0, end)
}
