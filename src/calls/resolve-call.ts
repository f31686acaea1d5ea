/**
 * Step 1 of a call: from a call to intents, which services a trigger's call deploys, with
 * which action, tag and environment; or why it has nothing to do. Pure: the services are
 * already loaded.
 */
import type { DeploymentIntent } from '../model/call-accept.ts'
import { repositoryPath } from '../model/image-reference.ts'
import type { DeploymentInput, DeploymentParams, Service, Trigger } from '../model/index.ts'
import { registryHostOf } from '../model/registry-host.ts'
import { refuseTag } from '../policy/tag-policy.ts'
import type { SenderEvent } from '../senders/sender.ts'
import { matchesGlob } from '../triggers/path-match.ts'

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
  /** Whether the service's driver can run another image tag (its canChangeTag). */
  canChangeTag: (service: Service) => boolean
}

type Skipped = { service: string; reason: string }

export type Resolution =
  | {
      kind: 'intents'
      intents: DeploymentIntent[]
      skipped: Skipped[]
      /** What the call asked for that a service did not take: a `?tag=` its driver cannot run. */
      notes: Skipped[]
      /** What the call log should say drove the deployments (the alerts of a scale step). */
      note?: string
    }
  | { kind: 'ignored'; reason: string }
  /** The call asks for what none of its services can do: a 400 naming the parameter. */
  | { kind: 'refused'; reason: string }

export function resolveCall(resolve: ResolveInput): Resolution {
  const { trigger, event, query, services, body } = resolve
  const step = stepFor(trigger, event)
  if (typeof step === 'string') {
    return { kind: 'ignored', reason: step }
  }
  const queryTag = trigger.allowTag && query.tag ? query.tag : undefined
  const input = deploymentInput(trigger, event, query, body)
  const intents: DeploymentIntent[] = []
  const skipped: Skipped[] = []
  const matching = {
    git: services.some((service) => service.git),
    image: services.some((service) => service.image),
  }
  // A registry notification may push several images: each service matches its own push.
  const own = new Map(services.map((service) => [service, pushFor(service, event)]))
  const taking = services.filter((service) => {
    const reason = mismatch(service, own.get(service)!, matching)
    if (reason) {
      skipped.push({ service: service.name, reason })
    }
    return !reason
  })
  const tagless =
    queryTag === undefined || step !== 0 ? [] : taking.filter((s) => !resolve.canChangeTag(s))
  if (tagless.length > 0 && tagless.length === taking.length) {
    const reason = `?tag= cannot be applied: ${taglessReason(tagless)}; drop the parameter`
    return { kind: 'refused', reason }
  }
  const notes = tagless.map((s) => ({
    service: s.name,
    reason: `?tag= ignored: ${taglessReason([s])}`,
  }))
  for (const service of taking) {
    let params: DeploymentParams = {}
    if (step === 0) {
      // The generic sender reads ?tag= as its event's tag too: a noted service takes neither.
      const tag = tagless.includes(service) ? undefined : (queryTag ?? own.get(service)!.tag)
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
    intents.push({
      service: service.name,
      action: step === 0 ? 'redeploy' : 'scale',
      params,
      input,
      triggerId: trigger.id,
    })
  }
  if (intents.length === 0) {
    return {
      kind: 'ignored',
      reason:
        skipped.map((s) => `${s.service}: ${s.reason}`).join('; ') || 'the trigger has no services',
    }
  }
  const note = alertNote(event)
  return { kind: 'intents', intents, skipped, notes, ...(note ? { note } : {}) }
}

/** `service web runs on the process driver, which cannot change image tags` */
function taglessReason(services: Service[]): string {
  const drivers = [...new Set(services.map((s) => s.driver))].join(', ')
  const names = services.map((s) => s.name).join(', ')
  return services.length === 1
    ? `service ${names} runs on the ${drivers} driver, which cannot change image tags`
    : `services ${names} run on the ${drivers} driver, which cannot change image tags`
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
    .map((alert) =>
      alert.labels.instance ? `${alert.name} (${alert.labels.instance})` : alert.name,
    )
  const more =
    driving.length > MAX_NOTED_ALERTS ? ` and ${driving.length - MAX_NOTED_ALERTS} more` : ''
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
    return trigger.reverseOnResolve
      ? -sign * trigger.by
      : 'alert resolved; the trigger does not reverse on resolve'
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
      if (
        !event.changedFiles.some((file) => patterns.some((pattern) => matchesGlob(pattern, file)))
      ) {
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
  if (!sameRegistry || repositoryPath(image) !== repositoryPath(serviceImage)) {
    return `image ${pushedImage(push)} was pushed, service runs ${serviceImage}`
  }
  return undefined
}

function pushedImage(push: { image?: string; registry?: string }): string {
  return push.registry === undefined ? (push.image ?? '') : `${push.registry}/${push.image ?? ''}`
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
  // Measured after decoding too: each invalid byte becomes a three-byte U+FFFD, so a body under
  // the limit in bytes could pass three times the limit to a child's environment (spawn E2BIG).
  // A body already over it in bytes is not decoded at all (a 1 MiB body cost 10 ms for nothing).
  const overInBytes = body.length > MAX_PASSED_BODY_BYTES
  const passed =
    trigger.passBody && body.length > 0 && !overInBytes
      ? body.toString('utf8').replaceAll('\0', '')
      : null
  const bodyTooLarge =
    trigger.passBody &&
    (overInBytes || (passed !== null && Buffer.byteLength(passed) > MAX_PASSED_BODY_BYTES))
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
  const withoutScheme = text
    .replace(/^[a-z+]+:\/\/(?:[^@/]+@)?[^/]+\//, '')
    .replace(/^[^@/]+@[^:/]+:/, '')
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
