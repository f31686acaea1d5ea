/** `deckhand trigger ls|add|show|revoke|rotate`: the secret URLs bound to a service or a stack. */
import { type Command, InvalidArgumentError, Option } from 'commander'

import { ACTIONS, SENDER_IDS } from '../../model/index.ts'
import {
  clientFor,
  commaList,
  emit,
  encode,
  type GlobalFlags,
  listAll,
  wholeNumber,
  withGlobalFlags,
} from '../command-kit.ts'
import { usageError } from '../exit-codes.ts'
import { type CliIo, type Column, formatAge, formatFields, formatTable } from '../output.ts'

export interface TriggerRow {
  id: string
  name: string
  action: string
  by: number
  sender: string
  service: string | null
  stack: string | null
  hasSecret: boolean
  cooldown: string
  createdAt: string
  revokedAt: string | null
  [field: string]: unknown
}

export const URL_HINT =
  'This URL is shown only now and cannot be shown again; store it where the sender needs it ' +
  '(rotate the trigger to get a new one).\n'

export function triggerColumns(io: CliIo): Column<TriggerRow>[] {
  return [
    { header: 'ID', value: (t) => t.id },
    { header: 'NAME', value: (t) => t.name },
    {
      header: 'ACTION',
      value: (t) => (t.action === 'redeploy' ? t.action : `${t.action} ${t.by}`),
    },
    { header: 'SENDER', value: (t) => t.sender },
    { header: 'SECRET', value: (t) => (t.hasSecret ? 'yes' : 'no') },
    { header: 'COOLDOWN', value: (t) => t.cooldown },
    { header: 'CREATED', value: (t) => formatAge(t.createdAt, io.now()) },
    {
      header: 'STATE',
      value: (t) => (t.revokedAt ? `revoked ${formatAge(t.revokedAt, io.now())}` : 'live'),
    },
  ]
}

interface OwnerFlags {
  stack?: string
}

/** `trigger ls web` or `trigger ls --stack shop`: exactly one owner. */
function ownerPath(service: string | undefined, flags: OwnerFlags): string {
  if (service !== undefined && flags.stack !== undefined) {
    throw usageError('name a service or --stack <name>, not both')
  }
  if (flags.stack !== undefined) {
    return `/api/v1/stacks/${encode(flags.stack)}/triggers`
  }
  if (service === undefined) {
    throw usageError('name the service (`deckhand trigger ls web`) or the stack (`--stack shop`)')
  }
  return `/api/v1/services/${encode(service)}/triggers`
}

export function registerTriggerCommands(program: Command, io: CliIo): void {
  const trigger = program
    .command('trigger')
    .description('list, add, revoke and rotate trigger URLs')

  withGlobalFlags(
    trigger
      .command('ls')
      .alias('list')
      .argument('[service]', 'the service whose triggers to list')
      .option('--stack <name>', 'list the triggers of this stack instead')
      .option('-a, --all', 'list revoked triggers too, with when they were revoked'),
  )
    .description('list the triggers of a service or a stack (never their URLs)')
    .action(
      async (service: string | undefined, flags: GlobalFlags & OwnerFlags & { all?: boolean }) => {
        const query = flags.all ? { includeRevoked: 'true' } : {}
        const items = await listAll<TriggerRow>(
          clientFor(flags, io),
          ownerPath(service, flags),
          query,
          1000,
        )
        emit(io, flags, items, (rows) =>
          rows.length === 0
            ? 'no triggers; add one with `deckhand trigger add`\n'
            : formatTable(rows, triggerColumns(io)),
        )
      },
    )

  withGlobalFlags(
    trigger
      .command('add')
      .argument('[service]', 'the service the trigger deploys')
      .description('create a trigger and print its URL, once')
      .option('--stack <name>', 'bind the trigger to this stack instead of a service')
      .option('--name <name>', 'label shown in listings and logs (default: the action)')
      .addOption(
        new Option('--action <action>', 'what a call does').choices(ACTIONS).default('redeploy'),
      )
      .option('--by <n>', 'scale step for scale-up/scale-down (default 1)', wholeNumber(1))
      .addOption(
        new Option('--sender <sender>', 'expected sender (default: auto)').choices(SENDER_IDS),
      )
      .option('--secret <secret>', 'signature secret the sender signs with')
      .option(
        '--allow-ips <list>',
        'comma-separated addresses or CIDR ranges allowed to call',
        commaList,
      )
      .option('--pass-body', 'pass the call body to the instances (default for redeploy)')
      .option('--no-pass-body', 'do not pass the call body')
      .option(
        '--env-from-query <list>',
        'comma-separated query parameters passed as environment',
        commaList,
      )
      .option(
        '--secret-env-from-query <list>',
        'which of --env-from-query carry secrets (redacted in logs)',
        commaList,
      )
      .option('--no-allow-tag', 'ignore tags named by calls (?tag= or registry payloads)')
      .option('--reverse-on-resolve', 'alertmanager: scale back when the alert resolves')
      .option('--cooldown <duration>', 'ignore further scale steps for this long (default 60s)')
      .option('--rate-limit <rate>', 'calls allowed, e.g. 60/min (default 600/min)')
      .option('--match <json>', 'conditions a call must meet, as JSON (see docs)', matchJson),
  ).action(async (service: string | undefined, flags: AddFlags) => {
    const created = await clientFor(flags, io).request<TriggerRow & { url: string }>(
      ownerPath(service, flags),
      {
        method: 'POST',
        body: triggerSpecFromFlags(flags),
      },
    )
    emit(
      io,
      flags,
      created,
      (t) =>
        `created trigger ${t.name} (${t.id}) for ${t.stack ? `stack ${t.stack}` : `service ${t.service}`}\n` +
        `url: ${t.url}\n`,
    )
    io.stderr(URL_HINT)
  })

  withGlobalFlags(trigger.command('show').argument('<id>').description('show one trigger')).action(
    async (id: string, flags: GlobalFlags) => {
      const shown = await clientFor(flags, io).request<TriggerRow>(`/api/v1/triggers/${encode(id)}`)
      emit(io, flags, shown, formatFields)
    },
  )

  withGlobalFlags(
    trigger
      .command('revoke')
      .argument('<id>')
      .description('revoke a trigger: its next call gets 404'),
  ).action(async (id: string, flags: GlobalFlags) => {
    await clientFor(flags, io).request(`/api/v1/triggers/${encode(id)}`, { method: 'DELETE' })
    emit(io, flags, { id, revoked: true }, () => `revoked trigger ${id}\n`)
  })

  withGlobalFlags(
    trigger
      .command('rotate')
      .argument('<id>')
      .description('give a trigger a new URL; the old one stops at once'),
  ).action(async (id: string, flags: GlobalFlags) => {
    const rotated = await clientFor(flags, io).request<TriggerRow & { url: string }>(
      `/api/v1/triggers/${encode(id)}/rotate`,
      { method: 'POST' },
    )
    emit(io, flags, rotated, (t) => `rotated trigger ${t.name} (${t.id})\nurl: ${t.url}\n`)
    io.stderr(URL_HINT)
  })
}

interface AddFlags extends GlobalFlags, OwnerFlags {
  name?: string
  action: string
  by?: number
  sender?: string
  secret?: string
  allowIps?: string[]
  passBody?: boolean
  envFromQuery?: string[]
  secretEnvFromQuery?: string[]
  allowTag: boolean
  reverseOnResolve?: boolean
  cooldown?: string
  rateLimit?: string
  match?: Record<string, unknown>
}

/** `--match`: a JSON object; the server checks what is in it and names the field at fault. */
export function matchJson(value: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    throw new InvalidArgumentError('expected a JSON object such as {"query":"env","equals":"prod"}')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError('expected a JSON object such as {"query":"env","exists":true}')
  }
  return parsed as Record<string, unknown>
}

/** The POST body: only the options given, so the server's defaults stay the defaults. */
export function triggerSpecFromFlags(flags: AddFlags): Record<string, unknown> {
  const spec: Record<string, unknown> = { action: flags.action }
  const fields = [
    'name',
    'by',
    'sender',
    'secret',
    'allowIps',
    'passBody',
    'envFromQuery',
    'secretEnvFromQuery',
    'reverseOnResolve',
    'cooldown',
    'rateLimit',
    'match',
  ] as const
  for (const field of fields) {
    if (flags[field] !== undefined) {
      spec[field] = flags[field]
    }
  }
  if (flags.allowTag === false) {
    spec.allowTag = false
  }
  return spec
}
