/**
 * Applies a loaded deckhand.yaml through Admin, so the file and the API obey the same rules.
 * Only differences are written: applying the same file twice changes nothing the second time.
 */
import type { Admin, TriggerOwner } from '../admin/admin.ts'
import type { Service, Trigger, TriggerOptions } from '../model/index.ts'
import { isRecord } from '../specs/problems.ts'
import { serviceView } from '../specs/service-spec.ts'
import { hashToken } from '../triggers/token.ts'
import type { ConfigTrigger, DeckhandConfig } from './config-file.ts'

export interface ApplyOptions {
  /** Overrides the file's `prune`. */
  prune?: boolean
}

export interface ApplyResult {
  /** One sentence per change, e.g. `created service web`; empty when the store already matched. */
  changes: string[]
}

/** An apply that failed part way; the message starts with `file:line:` of the declaration at fault. */
export class ConfigApplyError extends Error {}

// The fields a file manages; `tag` and `replicas` are observed state unless the file sets them.
const SERVICE_FIELDS = ['driver', 'target', 'image', 'git', 'scale', 'tagPolicy', 'deploy'] as const

/**
 * Applies the file as a unit: when a step fails (something only applying can see, such as a
 * token another trigger holds), what this apply created is removed again, newest first, so a
 * refused start leaves no service, stack or trigger of the file. Updates of what existed stay:
 * each was valid alone, and putting back a stored secret through the API's views could not be
 * done exactly.
 */
export async function applyConfig(
  config: DeckhandConfig,
  admin: Admin,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const created: (() => Promise<unknown>)[] = []
  try {
    return await applyAll(config, admin, options, created)
  } catch (error) {
    const left: string[] = []
    for (const undo of created.reverse()) {
      await undo().catch((undoError: unknown) => left.push((undoError as Error).message))
    }
    if (left.length > 0 && error instanceof Error) {
      error.message += `; removing what this apply created failed too: ${left.join('; ')}`
    }
    throw error
  }
}

async function applyAll(
  config: DeckhandConfig,
  admin: Admin,
  options: ApplyOptions,
  created: (() => Promise<unknown>)[],
): Promise<ApplyResult> {
  const changes: string[] = []
  const store = admin.store
  const step = async <T>(at: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run()
    } catch (error) {
      throw new ConfigApplyError(`${at}: ${(error as Error).message}`, { cause: error })
    }
  }

  for (const declared of config.services) {
    const name = declared.input.name
    const current = await store.getService(name)
    if (!current) {
      await step(declared.at, () => admin.createService(declared.spec))
      // Deleting through Admin stops what the driver started (a process service's replicas).
      created.push(() => admin.deleteService(name))
      changes.push(`created service ${name}`)
      continue
    }
    const patch = servicePatch(current, declared.spec, declared.input)
    if (patch) {
      await step(declared.at, () => admin.updateService(name, patch))
      changes.push(`updated service ${name}`)
    }
  }

  for (const declared of config.stacks) {
    const { name, services } = declared.input
    const current = await store.getStack(name)
    if (!current) {
      await step(declared.at, () => admin.createStack(declared.input))
      created.push(() => admin.deleteStack(name))
      changes.push(`created stack ${name}`)
    } else if (!sameList(current.services, services)) {
      await step(declared.at, () => admin.updateStack(name, { services }))
      changes.push(`updated stack ${name}`)
    }
  }

  for (const declared of config.triggers) {
    const change = await step(declared.at, () => applyTrigger(admin, declared, created))
    if (change) {
      changes.push(change)
    }
  }

  if (options.prune ?? config.prune) {
    changes.push(...(await prune(config, admin)))
  }
  return { changes }
}

async function applyTrigger(
  admin: Admin,
  declared: ConfigTrigger,
  created: (() => Promise<unknown>)[],
): Promise<string | undefined> {
  const label = `${ownerLabel(declared.owner)} trigger ${declared.options.name}`
  const existing = (await liveTriggers(admin, declared.owner)).find(
    (t) => t.name === declared.options.name,
  )
  if (!existing) {
    const { trigger } = await admin.createTrigger(declared.owner, declared.spec, declared.token)
    created.push(() => admin.revokeTrigger(trigger.id))
    return `created ${label}`
  }
  const parts: string[] = []
  const holder = await admin.store.findTriggerByTokenHash(hashToken(declared.token))
  if (holder?.id !== existing.id) {
    await admin.rotateTrigger(existing.id, declared.token)
    parts.push('token')
  }
  if (!sameOptions(existing, declared.options)) {
    await admin.updateTrigger(existing.id, declared.spec)
    parts.push('options')
  }
  return parts.length ? `updated ${label} (${parts.join(', ')})` : undefined
}

/** Revokes triggers, deletes stacks and services the file no longer declares, in that order. */
async function prune(config: DeckhandConfig, admin: Admin): Promise<string[]> {
  const changes: string[] = []
  const store = admin.store
  const services = new Set(config.services.map((s) => s.input.name))
  const stacks = new Set(config.stacks.map((s) => s.input.name))
  const triggers = new Set(
    config.triggers.map((t) => `${ownerLabel(t.owner)} trigger ${t.options.name}`),
  )
  const owners: TriggerOwner[] = [
    ...[...services].map((service) => ({ service })),
    ...[...stacks].map((stack) => ({ stack })),
  ]
  for (const owner of owners) {
    for (const trigger of await liveTriggers(admin, owner)) {
      const label = `${ownerLabel(owner)} trigger ${trigger.name}`
      if (!triggers.has(label)) {
        await admin.revokeTrigger(trigger.id)
        changes.push(`revoked ${label}`)
      }
    }
  }
  for (const stack of await all((cursor) => store.listStacks({ limit: 1000, cursor }))) {
    if (!stacks.has(stack.name)) {
      await admin.deleteStack(stack.name)
      changes.push(`deleted stack ${stack.name}`)
    }
  }
  for (const service of await all((cursor) => store.listServices({ limit: 1000, cursor }))) {
    if (!services.has(service.name)) {
      await admin.deleteService(service.name)
      changes.push(`deleted service ${service.name}`)
    }
  }
  return changes
}

/**
 * The merge patch that makes the stored service what the file says, or undefined when it
 * already is. Fields the file drops are set to null so they return to their defaults.
 */
function servicePatch(
  current: Service,
  spec: Record<string, unknown>,
  input: DeckhandConfig['services'][number]['input'],
): Record<string, unknown> | undefined {
  const shown = serviceView(current)
  const wanted = serviceView({ ...current, ...input, tag: current.tag, replicas: current.replicas })
  const patch: Record<string, unknown> = {}
  for (const field of SERVICE_FIELDS) {
    const difference = replacement(shown[field], wanted[field])
    if (difference !== undefined) {
      patch[field] = difference
    }
  }
  for (const field of ['tag', 'replicas'] as const) {
    if (spec[field] !== undefined && !equal(shown[field], spec[field])) {
      patch[field] = spec[field]
    }
  }
  return Object.keys(patch).length ? patch : undefined
}

/** RFC 7396 patch turning `from` into `to`; undefined when equal. */
function replacement(from: unknown, to: unknown): unknown {
  if (equal(from, to)) {
    return undefined
  }
  if (!isRecord(from) || !isRecord(to)) {
    return to ?? null
  }
  const patch: Record<string, unknown> = {}
  for (const key of new Set([...Object.keys(from), ...Object.keys(to)])) {
    const difference = key in to ? replacement(from[key], to[key]) : null
    if (difference !== undefined) {
      patch[key] = difference
    }
  }
  return patch
}

function sameOptions(trigger: Trigger, options: TriggerOptions): boolean {
  return (Object.keys(options) as (keyof TriggerOptions)[]).every((key) =>
    equal(trigger[key], options[key]),
  )
}

function equal(a: unknown, b: unknown): boolean {
  // A trigger stored before an option existed lacks it; declared, it reads null (e.g. `match`).
  if ((a ?? null) === (b ?? null)) {
    return true
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => equal(item, b[index]))
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)])
    return [...keys].every((key) => equal(a[key], b[key]))
  }
  return false
}

const sameList = (a: string[], b: string[]): boolean => equal([...a].sort(), [...b].sort())

const ownerLabel = (owner: TriggerOwner): string =>
  'service' in owner ? `service ${owner.service}` : `stack ${owner.stack}`

async function liveTriggers(admin: Admin, owner: TriggerOwner): Promise<Trigger[]> {
  const list = await all((cursor) => admin.store.listTriggers(owner, { limit: 1000, cursor }))
  return list.filter((trigger) => trigger.revokedAt === null)
}

async function all<T>(
  page: (cursor: string | undefined) => Promise<{ items: T[]; next: string | null }>,
): Promise<T[]> {
  const items: T[] = []
  let cursor: string | undefined
  do {
    const result = await page(cursor)
    items.push(...result.items)
    cursor = result.next ?? undefined
  } while (cursor)
  return items
}
