/**
 * What an operator can do, whether through the API or deckhand.yaml: create and change
 * services, stacks and triggers, ask for deployments by hand. HTTP handlers and the config
 * loader are thin over this; it keeps drivers told of every service change.
 */
import { acceptIntents } from '../calls/accept-intents.ts'
import { unknownFields } from '../config/unknown-fields.ts'
import type { DriverCapabilities, ServiceStatus } from '../drivers/driver.ts'
import type { DriverRegistry } from '../drivers/driver-registry.ts'
import { conflict, DeckhandError, invalid, notFound, triggerNameTaken } from '../errors.ts'
import type { EventBus } from '../events.ts'
import type { AcceptResult, DeploymentIntent } from '../model/call-accept.ts'
import { newId } from '../model/ids.ts'
import type { Deployment, Service, Stack, Trigger } from '../model/index.ts'
import { formatProblems, isRecord, type Problem } from '../specs/problems.ts'
import { parseServiceSpec, serviceSpecSchema, serviceView } from '../specs/service-spec.ts'
import { parseStackSpec, stackSpecSchema } from '../specs/stack-spec.ts'
import { parseTriggerSpec } from '../specs/trigger-spec.ts'
import type { CallStore, CatalogueStore, QueueStore } from '../store/store.ts'
import { hashToken, makeToken, TOKEN_PATTERN } from '../triggers/token.ts'
import { planManual } from './manual-deployment.ts'

/**
 * The seams Admin uses: the catalogue it edits, the accept of a manual deployment, and the last
 * good deployment a rollback returns to.
 */
export type AdminStore = CatalogueStore & CallStore & Pick<QueueStore, 'lastSucceededBefore'>

export interface AdminOptions {
  store: AdminStore
  drivers: DriverRegistry
  events: EventBus
  /** Base of the trigger URLs shown to people, e.g. https://deckhand.example.com */
  publicUrl: string
  /** Tests only: the clock change windows and freezes judge API deployments by, as calls'. */
  clock?: () => number
}

const TOKEN_RULE =
  'a trigger token must be 43 base64url characters (32 random bytes); make one with `openssl rand -base64 32 | tr "+/" "-_" | tr -d =`'

export type TriggerOwner = { service: string } | { stack: string }

// How many earlier deployments of the running digest a rollback passes over.
const MAX_ROLLBACK_SKIPS = 100

export class AdminError extends DeckhandError {
  readonly problems: Problem[]

  constructor(what: string, problems: Problem[]) {
    super('DH_ERR_VALIDATION', `invalid ${what}: ${formatProblems(problems)}`)
    this.problems = problems
  }
}

export class Admin {
  readonly store: AdminStore
  #drivers: DriverRegistry
  #events: EventBus
  #publicUrl: string
  #clock: (() => number) | undefined

  constructor(options: AdminOptions) {
    this.store = options.store
    this.#drivers = options.drivers
    this.#events = options.events
    this.#publicUrl = options.publicUrl.replace(/\/+$/, '')
    this.#clock = options.clock
  }

  async createService(spec: unknown): Promise<Service> {
    const parsed = parseServiceSpec(spec, (driver, target) =>
      this.#drivers.checkTarget(driver, target),
    )
    if (!parsed.ok) {
      throw new AdminError('service', parsed.problems)
    }
    const input = parsed.value
    const replicas = input.replicas ?? defaultReplicas(input.driver, input.target)
    const service = await this.store.createService({ ...input, replicas })
    if (service.driver !== 'process') {
      await this.#attach(service, () => this.store.deleteService(service.name))
      return service
    }
    // A process service's first start is a deployment like any other, with a log, an outcome
    // and a duration: a command that exits at once is a failed deployment with its output, not
    // a silent restart loop. PRODUCT.md names no action for it, so it is a redeploy whose call
    // says why (docs/behaviour.md).
    const first = planManual(service, {}, false)
    if (first.ok) {
      await this.#accept(first.intent, `service ${service.name} created: its first start`)
    }
    return service
  }

  /** Applies a merge patch over the service as it is shown, then validates the whole. */
  async updateService(name: string, patch: unknown): Promise<Service> {
    const current = await this.store.getService(name)
    if (!current) {
      throw notFound(`service ${name}`)
    }
    if (!isRecord(patch)) {
      throw invalid('a service patch must be a JSON object')
    }
    if (patch.name !== undefined && patch.name !== name) {
      throw invalid('a service cannot be renamed; create a new one and delete this one')
    }
    // The merge would carry a misspelt field along and the parse ignore it: 200, nothing done.
    const unknown = unknownFields(patch, serviceSpecSchema)
    if (unknown.length) {
      throw new AdminError('service patch', unknown)
    }
    const merged = mergePatch(serviceView(current), patch)
    const parsed = parseServiceSpec(merged, (driver, target) =>
      this.#drivers.checkTarget(driver, target),
    )
    if (!parsed.ok) {
      throw new AdminError('service', parsed.problems)
    }
    const updated = await this.store.replaceService(parsed.value)
    if (!updated) {
      throw notFound(`service ${name}`)
    }
    await this.#attach(updated)
    return updated
  }

  async deleteService(name: string): Promise<void> {
    const service = await this.store.getService(name)
    if (!service) {
      throw notFound(`service ${name}`)
    }
    await this.#drivers.get(service.driver)?.detach(service)
    await this.store.deleteService(name)
  }

  async createStack(spec: unknown): Promise<Stack> {
    const parsed = parseStackSpec(spec)
    if (!parsed.ok) {
      throw new AdminError('stack', parsed.problems)
    }
    await this.#requireServices(parsed.value.services)
    return this.store.createStack(parsed.value)
  }

  async updateStack(name: string, patch: unknown): Promise<Stack> {
    const current = await this.store.getStack(name)
    if (!current) {
      throw notFound(`stack ${name}`)
    }
    if (!isRecord(patch)) {
      throw invalid('a stack patch must be a JSON object')
    }
    const unknown = unknownFields(patch, stackSpecSchema)
    if (unknown.length) {
      throw new AdminError('stack patch', unknown)
    }
    const parsed = parseStackSpec(mergePatch({ name, services: current.services }, patch))
    if (!parsed.ok) {
      throw new AdminError('stack', parsed.problems)
    }
    await this.#requireServices(parsed.value.services)
    return (await this.store.replaceStack(parsed.value)) ?? current
  }

  async deleteStack(name: string): Promise<void> {
    if (!(await this.store.deleteStack(name))) {
      throw notFound(`stack ${name}`)
    }
  }

  /** Creates a trigger; `token` comes from config files, else one is made. The URL is shown once. */
  async createTrigger(
    owner: TriggerOwner,
    spec: unknown,
    token?: string,
  ): Promise<{ trigger: Trigger; url: string }> {
    const parsed = parseTriggerSpec(spec)
    if (!parsed.ok) {
      throw new AdminError('trigger', parsed.problems)
    }
    if (
      'service' in owner
        ? !(await this.store.getService(owner.service))
        : !(await this.store.getStack(owner.stack))
    ) {
      throw notFound('service' in owner ? `service ${owner.service}` : `stack ${owner.stack}`)
    }
    if (token !== undefined && !TOKEN_PATTERN.test(token)) {
      throw invalid(TOKEN_RULE)
    }
    await this.#refuseTakenName(owner, parsed.value.name)
    const secretToken = token ?? makeToken()
    const trigger = await this.store.createTrigger({
      ...parsed.value,
      id: newId('trg'),
      service: 'service' in owner ? owner.service : null,
      stack: 'stack' in owner ? owner.stack : null,
      tokenHash: hashToken(secretToken),
    })
    return { trigger, url: this.hookUrl(secretToken) }
  }

  /** Replaces a trigger's options (not its token). */
  async updateTrigger(id: string, spec: unknown): Promise<Trigger> {
    const parsed = parseTriggerSpec(spec)
    if (!parsed.ok) {
      throw new AdminError('trigger', parsed.problems)
    }
    const current = await this.store.getTrigger(id)
    if (!current) {
      throw notFound(`trigger ${id}`)
    }
    const owner: TriggerOwner =
      current.service !== null ? { service: current.service } : { stack: current.stack! }
    await this.#refuseTakenName(owner, parsed.value.name, id)
    const trigger = await this.store.updateTrigger(id, parsed.value)
    if (!trigger) {
      throw notFound(`trigger ${id}`)
    }
    return trigger
  }

  /**
   * Trigger names are unique among an owner's live triggers, as deckhand.yaml requires. This
   * names the holder; the store's unique index catches creates that pass here at once.
   */
  async #refuseTakenName(owner: TriggerOwner, name: string, exceptId?: string): Promise<void> {
    let cursor: string | undefined
    do {
      const page = await this.store.listTriggers(owner, { limit: 1000, cursor })
      const holder = page.items.find(
        (t) => t.revokedAt === null && t.name === name && t.id !== exceptId,
      )
      if (holder) {
        throw triggerNameTaken(owner, name, holder.id)
      }
      cursor = page.next ?? undefined
    } while (cursor)
  }

  /** Gives the trigger a new token (`token` from config files, else a new one); the old URL dies at once. */
  async rotateTrigger(id: string, token?: string): Promise<{ trigger: Trigger; url: string }> {
    if (token !== undefined && !TOKEN_PATTERN.test(token)) {
      throw invalid(TOKEN_RULE)
    }
    token ??= makeToken()
    const trigger = await this.store.rotateTrigger(id, hashToken(token))
    if (!trigger) {
      throw notFound(`trigger ${id}`)
    }
    return { trigger, url: this.hookUrl(token) }
  }

  async revokeTrigger(id: string): Promise<void> {
    if (!(await this.store.revokeTrigger(id))) {
      throw notFound(`trigger ${id}`)
    }
  }

  /** The drivers this server runs (DECKHAND_DRIVERS), with what each can do. */
  enabledDrivers(): { name: string; capabilities: DriverCapabilities }[] {
    return this.#drivers.all().map((d) => ({ name: d.name, capabilities: d.capabilities }))
  }

  /** What the service's driver reports running now; an unreachable runtime is reported, not thrown. */
  async inspect(service: Service): Promise<ServiceStatus | { error: string }> {
    const driver = this.#drivers.get(service.driver)
    if (!driver) {
      return { error: `driver ${service.driver} is not enabled on this server` }
    }
    try {
      return { ...(await driver.inspect(service)) }
    } catch (error) {
      return { error: (error as Error).message }
    }
  }

  /** Fixes the URL base once the real port is known (listening on port 0). */
  setPublicUrl(url: string): void {
    this.#publicUrl = url.replace(/\/+$/, '')
  }

  hookUrl(token: string): string {
    return `${this.#publicUrl}/hooks/${token}`
  }

  /** A redeploy or scale asked for by hand: same coalescing and bounds as a call. */
  async requestDeployment(name: string, body: unknown): Promise<AcceptResult> {
    const service = await this.store.getService(name)
    if (!service) {
      throw notFound(`service ${name}`)
    }
    const canChangeTag = this.#drivers.get(service.driver)?.capabilities.canChangeTag ?? true
    const planned = planManual(service, body, canChangeTag)
    if (!planned.ok) {
      throw invalid(planned.error)
    }
    const { intent } = planned
    if (intent.action === 'scale' && intent.params.replicas === service.replicas) {
      const running = await this.#runningReplicas(service)
      return this.#accept(running === undefined ? intent : { ...intent, running })
    }
    return this.#accept(intent)
  }

  /**
   * What the runtime runs now, for a scale to the count the row records; undefined when the
   * driver cannot see it (command) or cannot be reached, and then the row is taken at its word.
   */
  async #runningReplicas(service: Service): Promise<number | undefined> {
    const driver = this.#drivers.get(service.driver)
    const status = await driver?.inspect(service).catch(() => undefined)
    return status?.ready ?? undefined
  }

  /**
   * Redeploys the tag and environment of the last successful deployment before the current
   * one, pinned to the digest it ran when it recorded one: a moved `:latest` goes back exactly.
   * Deployments that ran the current image and digest again (a push notification and a manual
   * deploy of one push, a watch and a webhook) are not what ran before: they are passed over.
   */
  async rollback(name: string): Promise<AcceptResult> {
    if (!(await this.store.getService(name))) {
      throw notFound(`service ${name}`)
    }
    const current = await this.store.lastSucceededBefore(name, null)
    let previous = current && (await this.store.lastSucceededBefore(name, current.id))
    const same = (d: Deployment): boolean =>
      current!.digest !== null && d.digest === current!.digest && d.image === current!.image
    // Bounded: a service redeployed on one digest hundreds of times has nothing to go back to.
    for (let step = 0; previous && same(previous) && step < MAX_ROLLBACK_SKIPS; step++) {
      previous = await this.store.lastSucceededBefore(name, previous.id)
    }
    if (previous && same(previous)) {
      previous = undefined
    }
    if (!previous) {
      const other = current?.digest ? ` that ran another image than ${current.digest}` : ''
      throw conflict(`service ${name} has no earlier successful deployment${other} to roll back to`)
    }
    return this.#accept({
      service: name,
      action: 'rollback',
      params: {
        ...(previous.params.tag === undefined ? {} : { tag: previous.params.tag }),
        ...(previous.digest === null ? {} : { digest: previous.digest }),
      },
      input: { ...previous.input, triggerName: null },
      triggerId: null,
    })
  }

  async #accept(intent: DeploymentIntent, reason?: string): Promise<AcceptResult> {
    const call = {
      id: newId('call'),
      triggerId: null,
      sender: 'api',
      deliveryId: null,
      remoteAddress: null,
      ...(reason === undefined ? {} : { reason }),
    }
    const options = this.#clock ? { now: this.#clock() } : undefined
    return acceptIntents({ store: this.store, events: this.#events }, call, [intent], options)
  }

  async #requireServices(names: string[]): Promise<void> {
    const missing: string[] = []
    for (const name of names) {
      if (!(await this.store.getService(name))) {
        missing.push(name)
      }
    }
    if (missing.length) {
      throw invalid(`services ${missing.join(', ')} do not exist; create them first`)
    }
  }

  async #attach(service: Service, undo?: () => Promise<unknown>): Promise<void> {
    const driver = this.#drivers.get(service.driver)
    try {
      await driver?.attach(service)
    } catch (error) {
      await undo?.()
      throw new DeckhandError(
        'DH_ERR_DRIVER_UNAVAILABLE',
        `driver ${service.driver} could not take service ${service.name}: ${(error as Error).message}`,
        { cause: error },
      )
    }
  }
}

function defaultReplicas(
  driver: Service['driver'],
  target: Record<string, unknown>,
): number | null {
  if (driver !== 'process') {
    return null
  }
  return typeof target.replicas === 'number' ? target.replicas : 1
}

/** RFC 7396 JSON merge patch: null deletes, objects merge, anything else replaces. */
export function mergePatch(
  base: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key]
    } else if (isRecord(value) && isRecord(result[key])) {
      result[key] = mergePatch(result[key] as Record<string, unknown>, value)
    } else {
      result[key] = value
    }
  }
  return result
}
