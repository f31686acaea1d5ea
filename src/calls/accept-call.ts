/**
 * Step 0 of a call, the hot path of POST /hooks/{token} free of HTTP: find the trigger, check
 * address, signature, rate and parameters, parse, then resolve (resolve-call.ts) and accept
 * (accept-intents.ts, where planAccept runs inside the store's commit), and answer. Every call
 * that reaches a trigger is recorded with its outcome; unknown tokens are answered alike and
 * only counted.
 * The order charges the right party: a caller outside allowIps or without the secret counts
 * against its own address (AddressGuard) before anything is written, and never takes from the
 * trigger's rate limit, so a stranger cannot spend the allowance of the real sender.
 */
import { isUtf8 } from 'node:buffer'

import { DeckhandError, type ErrorCode } from '../errors.ts'
import type { EventBus } from '../events.ts'
import type { AcceptResult, RecordedCall } from '../model/call-accept.ts'
import { newId } from '../model/ids.ts'
import type {
  Call,
  Deployment,
  DeploymentHold,
  DeploymentState,
  DriverName,
  Service,
  Trigger,
} from '../model/index.ts'
import { knownSecrets } from '../model/secret-redactor.ts'
import { refuseEvent } from '../senders/event-limits.ts'
import type { SenderRequest } from '../senders/sender.ts'
import { senderFor } from '../senders/sender-registry.ts'
import { makeIpAllowList } from '../specs/trigger-spec.ts'
import type { CallStore, CatalogueStore, QueueStore } from '../store/store.ts'
import { AddressGuard } from '../triggers/address-guard.ts'
import { RateLimiter } from '../triggers/rate-limiter.ts'
import { hashToken, TOKEN_PATTERN } from '../triggers/token.ts'
import { acceptIntents, recordCall } from './accept-intents.ts'
import { unmetCondition } from './call-conditions.ts'
import { refuseCallParameters } from './call-parameters.ts'
import { LARGE_BODY_BYTES, TurnGate } from './large-body-turns.ts'
import { acceptOptions, redelivery } from './plan-accept.ts'
import { MAX_PASSED_BODY_BYTES, resolveCall } from './resolve-call.ts'

export interface CallRequest extends SenderRequest {
  token: string
  /** The caller's address, already taken from X-Forwarded-For when the peer is a trusted proxy. */
  address: string
}

export interface CallAnswer {
  status: number
  body: Record<string, unknown> | undefined
  headers?: Record<string, string>
  /** Deployments to wait for, with ?wait=. */
  deploymentIds?: string[]
}

/** The code of a hook refusal by its status (docs/errors.md); a 400 is a bad payload unless named. */
const HOOK_CODES: Readonly<Record<number, ErrorCode>> = {
  400: 'DH_ERR_HOOK_BAD_PAYLOAD',
  401: 'DH_ERR_HOOK_SIGNATURE',
  403: 'DH_ERR_HOOK_FORBIDDEN_IP',
  404: 'DH_ERR_HOOK_NOT_FOUND',
  429: 'DH_ERR_HOOK_RATE_LIMITED',
}

/** `{"error", "code"}`, as every refusal of a trigger call answers. */
function refusal(
  status: number,
  reason: string,
  code = HOOK_CODES[status],
): Record<string, unknown> {
  return code === undefined ? { error: reason } : { error: reason, code }
}

// The same bytes for an unknown token and a revoked one, on purpose.
export const NOT_FOUND: CallAnswer = { status: 404, body: refusal(404, 'not found') }

export interface CallAcceptorOptions {
  guard?: AddressGuard
  /** Whether a driver can run another image tag (its canChangeTag); every one when absent. */
  canChangeTag?: (driver: DriverName) => boolean
  /** Lets large bodies be read one per turn of the event loop; the acceptor's own when absent. */
  largeBodies?: TurnGate
  /** The clock change windows and freezes are judged by; the store's when absent. */
  clock?: () => number
}

/**
 * The seams a call needs: its trigger and service or stack from the catalogue, the accept
 * itself, and a duplicate's deployment for the replayed answer.
 */
export type AcceptorStore = CallStore & CatalogueStore & Pick<QueueStore, 'getDeployment'>

export class CallAcceptor {
  #store: AcceptorStore
  #events: EventBus
  #rates = new RateLimiter()
  #addresses: AddressGuard
  #canChangeTag: (driver: DriverName) => boolean
  #largeBodies: TurnGate
  #clock: (() => number) | undefined
  #allowLists = new Map<string, (address: string) => boolean>()

  constructor(store: AcceptorStore, events: EventBus, options: CallAcceptorOptions = {}) {
    this.#store = store
    this.#events = events
    this.#addresses = options.guard ?? new AddressGuard()
    this.#canChangeTag = options.canChangeTag ?? (() => true)
    this.#largeBodies = options.largeBodies ?? new TurnGate()
    this.#clock = options.clock
  }

  async accept(request: CallRequest): Promise<CallAnswer> {
    const trigger = TOKEN_PATTERN.test(request.token)
      ? await this.#store.findTriggerByTokenHash(hashToken(request.token))
      : undefined
    if (!trigger) {
      return this.#failed(request.address) ?? NOT_FOUND
    }
    // Learned here too: a trigger made before this process started is known only once called.
    knownSecrets.remember(
      request.token,
      trigger.secret,
      ...trigger.secretEnvFromQuery.map((name) => {
        const value = Object.hasOwn(request.query, name) ? request.query[name] : undefined
        return typeof value === 'string' ? value : undefined
      }),
    )
    // Its signature check, parse and resolution run in the turn it is given (large-body-turns.ts).
    if (request.body.length >= LARGE_BODY_BYTES) {
      await this.#largeBodies.next()
    }
    return this.#acceptFor(trigger, request)
  }

  async #acceptFor(trigger: Trigger, request: CallRequest): Promise<CallAnswer> {
    const base = {
      id: newId('call'),
      triggerId: trigger.id,
      deliveryId: null,
      remoteAddress: request.address,
    }
    if (trigger.allowIps.length > 0 && !this.#allowed(trigger, request.address)) {
      return (
        this.#failed(request.address) ??
        this.#reject(base, null, 403, `address ${request.address} is not in the trigger's allowIps`)
      )
    }
    const sender = senderFor(request, trigger.sender)
    if (trigger.secret !== null) {
      const check = sender.verify(request, trigger.secret)
      if (check !== 'valid') {
        const reason =
          check === 'missing'
            ? `the ${sender.id} signature is missing`
            : `the ${sender.id} signature does not match the trigger's secret`
        return this.#failed(request.address) ?? this.#reject(base, sender.id, 401, reason)
      }
    }
    const retryAfter = this.#rates.take(trigger.id, trigger.rateLimit)
    if (retryAfter !== undefined) {
      return {
        status: 429,
        body: refusal(
          429,
          `trigger rate limit ${trigger.rateLimit.count} per ${trigger.rateLimit.perMs / 1000}s reached; retry later`,
        ),
        headers: { 'retry-after': String(retryAfter) },
      }
    }
    const refused = refuseCallParameters(request.query, trigger)
    if (refused !== undefined) {
      return this.#reject(base, sender.id, 400, refused)
    }
    const parsed = sender.parse(request)
    if (!parsed.ok && 'invalid' in parsed) {
      return this.#reject(base, sender.id, 400, parsed.invalid)
    }
    const outOfBounds =
      (parsed.ok ? refuseEvent(parsed.event) : undefined) ?? refusePassedBody(trigger, request.body)
    if (outOfBounds !== undefined) {
      return this.#reject(base, sender.id, 400, outOfBounds)
    }
    const deliveryId = parsed.ok ? (parsed.event.deliveryId ?? null) : null
    const call = { ...base, sender: sender.id, deliveryId }
    const options = {
      ...acceptOptions(trigger, deliveryId),
      ...(this.#clock ? { now: this.#clock() } : {}),
    }
    // Read before the commit too, so a redelivery of a call that was ignored or refused below
    // is answered as that one was; planAccept checks again inside the commit.
    if (deliveryId !== null && options.deliverySince !== undefined) {
      const since = options.deliverySince
      const first = await this.#store.findCallByDelivery(trigger.id, deliveryId, since)
      if (first) {
        return this.#replay(first, call)
      }
    }
    if (!parsed.ok) {
      return this.#ignore(call, parsed.ignored)
    }
    const unmet = unmetCondition(trigger.match, request)
    if (unmet !== undefined) {
      return this.#ignore(call, unmet)
    }
    const services = await this.#services(trigger, request.query.services)
    if (!Array.isArray(services)) {
      return this.#reject(call, sender.id, 400, services.error, 'DH_ERR_HOOK_UNKNOWN_SERVICES')
    }
    const resolution = resolveCall({
      trigger,
      event: parsed.event,
      query: request.query,
      services,
      body: request.body,
      canChangeTag: (service) => this.#canChangeTag(service.driver),
    })
    if (resolution.kind === 'refused') {
      return this.#reject(call, sender.id, 400, resolution.reason)
    }
    if (resolution.kind === 'ignored') {
      return this.#ignore(call, resolution.reason)
    }
    const accepted = { ...call, reason: resolution.note ?? null }
    const result = await acceptIntents(this.#deps(), accepted, resolution.intents, options)
    return result.duplicateOf
      ? this.#replayAnswer(result.duplicateOf)
      : acceptedAnswer(result, resolution.notes)
  }

  #deps(): { store: CallStore; events: EventBus } {
    return { store: this.#store, events: this.#events }
  }

  /** Counts a failure of `address`; the 429 answer once it is over its allowance. */
  #failed(address: string): CallAnswer | undefined {
    const retryAfter = this.#addresses.fail(address)
    return retryAfter === undefined
      ? undefined
      : {
          status: 429,
          body: refusal(
            429,
            'too many unknown tokens, bad signatures or refused addresses from this address; wait and retry',
          ),
          headers: { 'retry-after': String(retryAfter) },
        }
  }

  #allowed(trigger: Trigger, address: string): boolean {
    const key = `${trigger.id}:${trigger.allowIps.join(',')}`
    let allow = this.#allowLists.get(key)
    if (!allow) {
      allow = makeIpAllowList(trigger.allowIps)
      this.#allowLists.set(key, allow)
    }
    return allow(address)
  }

  async #services(
    trigger: Trigger,
    subset: string | undefined,
  ): Promise<Service[] | { error: string }> {
    if (trigger.service !== null) {
      const service = await this.#store.getService(trigger.service)
      return service ? [service] : []
    }
    const stack = await this.#store.getStack(trigger.stack ?? '')
    const members = stack?.services ?? []
    const requested =
      subset === undefined || subset === ''
        ? members
        : subset
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
    const unknown = requested.filter((name) => !members.includes(name))
    if (unknown.length) {
      return {
        error: `?services= names ${unknown.join(', ')}, not in stack ${trigger.stack} (members: ${members.join(', ')})`,
      }
    }
    const services: Service[] = []
    for (const name of requested) {
      const service = await this.#store.getService(name)
      if (service) {
        services.push(service)
      }
    }
    return services
  }

  async #reject(
    call: { id: string; triggerId: string; remoteAddress: string; deliveryId: string | null },
    sender: string | null,
    status: number,
    reason: string,
    code?: ErrorCode,
  ): Promise<CallAnswer> {
    await this.#record({ ...call, sender, outcome: 'rejected', status, reason })
    return { status, body: refusal(status, reason, code) }
  }

  async #ignore(
    call: {
      id: string
      triggerId: string
      remoteAddress: string
      deliveryId: string | null
      sender: string
    },
    reason: string,
  ): Promise<CallAnswer> {
    await this.#record({ ...call, outcome: 'ignored', status: 200, reason })
    return { status: 200, body: { status: 'ignored', reason } }
  }

  async #replay(
    first: Call,
    call: {
      id: string
      triggerId: string
      remoteAddress: string
      deliveryId: string | null
      sender: string
    },
  ): Promise<CallAnswer> {
    const { recorded, deploymentIds } = redelivery(call, first)
    await this.#record(recorded, deploymentIds)
    return this.#replayAnswer(first)
  }

  /** A redelivery is answered as its first call was. */
  async #replayAnswer(first: Call): Promise<CallAnswer> {
    if (first.outcome === 'queued' || first.outcome === 'coalesced') {
      const deployments: Record<string, unknown>[] = []
      const found: Deployment[] = []
      for (const id of first.deploymentIds) {
        const d = await this.#store.getDeployment(id)
        if (d) {
          found.push(d)
          deployments.push({
            id: d.id,
            service: d.service,
            action: d.action,
            coalesced: first.outcome === 'coalesced',
            ...holdOf(d),
          })
        }
      }
      const status = answerStatus(found.map((d) => d.state))
      return { status: 202, body: { status, ...heldAnswer(found), deployments } }
    }
    return first.status === 200
      ? { status: 200, body: { status: 'ignored', reason: first.reason } }
      : { status: first.status, body: refusal(first.status, first.reason ?? '') }
  }

  async #record(call: RecordedCall, deploymentIds: string[] = []): Promise<void> {
    await recordCall(this.#deps(), call, deploymentIds)
  }
}

/**
 * The answer to an accepted call: 202 with its deployments, or 200 ignored. `notes` are what
 * the call asked for that some services did not take (a `?tag=` their driver cannot run).
 */
export function acceptedAnswer(
  result: AcceptResult,
  notes: { service: string; reason: string }[] = [],
): CallAnswer {
  const deployments = result.results.flatMap((r) => (r.kind === 'ignored' ? [] : [r]))
  if (deployments.length === 0) {
    return {
      status: 200,
      body: { status: 'ignored', reason: result.call.reason ?? 'nothing to deploy' },
    }
  }
  const noted = new Map(notes.map((n) => [n.service, n.reason]))
  return {
    status: 202,
    body: {
      status: answerStatus(deployments.map((r) => r.deployment.state)),
      ...heldAnswer(deployments.map((r) => r.deployment)),
      deployments: deployments.map((r) => ({
        id: r.deployment.id,
        service: r.deployment.service,
        action: r.deployment.action,
        coalesced: r.kind === 'coalesced',
        ...holdOf(r.deployment),
        ...(noted.has(r.deployment.service) ? { note: noted.get(r.deployment.service) } : {}),
      })),
    },
    deploymentIds: deployments.map((r) => r.deployment.id),
  }
}

export function isStoreFailure(error: unknown): boolean {
  return error instanceof DeckhandError && error.code === 'DH_ERR_STORE_UNAVAILABLE'
}

/**
 * A body the trigger passes to instances must still fit once decoded: every invalid UTF-8 byte
 * becomes a three-byte U+FFFD, so 64 KiB of such bytes would pass 192 KiB to a child's environment.
 */
function refusePassedBody(trigger: Trigger, body: Buffer): string | undefined {
  if (
    !trigger.passBody ||
    body.length === 0 ||
    body.length > MAX_PASSED_BODY_BYTES ||
    isUtf8(body)
  ) {
    return undefined
  }
  const decoded = Buffer.byteLength(body.toString('utf8'))
  return decoded > MAX_PASSED_BODY_BYTES
    ? `the body is not valid UTF-8 and grows to ${decoded} bytes once decoded, past the ${MAX_PASSED_BODY_BYTES} bytes passed to instances; send UTF-8`
    : undefined
}

/** A held deployment's entry in an answer says why it waits and until when. */
function holdOf(d: Deployment): { hold?: DeploymentHold } {
  return d.state === 'held' && d.hold ? { hold: d.hold } : {}
}

/**
 * What a 202 of held deployments adds, so a sender's operator sees the hook worked: when the
 * first one starts (`startsAt`, null while a freeze has no end) and why (`message`).
 */
function heldAnswer(deployments: Deployment[]): { startsAt?: string | null; message?: string } {
  const held = deployments.flatMap((d) => (d.state === 'held' && d.hold ? [d.hold] : []))
  if (held.length === 0) {
    return {}
  }
  const ends = held.map((h) => h.until)
  const startsAt = ends.includes(null) ? null : ends.sort()[0]!
  return { startsAt, message: held.map((h) => h.reason).join('; ') }
}

/**
 * The `status` of a 202: what the caller's change now waits for. Any deployment waiting for
 * votes says so first, then one held by a window or freeze; otherwise the work is queued.
 */
function answerStatus(states: DeploymentState[]): 'awaiting-approval' | 'held' | 'queued' {
  return states.includes('awaiting-approval')
    ? 'awaiting-approval'
    : states.includes('held')
      ? 'held'
      : 'queued'
}
