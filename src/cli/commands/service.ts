/** `deckhand service ls|add|show|set|edit|rm`: the services the server knows. */
import { type Command, Option } from 'commander'

import { DEPLOY_ORDERS, DRIVER_NAMES, PULL_POLICIES } from '../../model/index.ts'
import type { ApiClient } from '../api-client.ts'
import {
  clientFor,
  emit,
  encode,
  type GlobalFlags,
  listAll,
  wholeNumber,
  withGlobalFlags,
  withLimit,
} from '../command-kit.ts'
import { usageError } from '../exit-codes.ts'
import { type CliIo, type Column, describeObject, formatAge, formatTable } from '../output.ts'
import { parseJsonObject, readSpecFile } from '../spec-file.ts'
import { showOrWatch, type WatchFlags, withWatch } from '../watch.ts'
import type { DeploymentRow } from './deploy.ts'
import { describeService } from './service-describe.ts'
import { registerServiceEditCommands } from './service-edit.ts'
import { registerServiceFreezeCommands } from './service-freeze.ts'
import { registerServiceWatchCommand } from './service-watch.ts'
import type { TriggerRow } from './trigger.ts'

export interface ServiceRow {
  name: string
  driver: string
  image: string | null
  tag: string | null
  replicas: number | null
  scale: { min: number; max: number }
  tagPolicy: string
  updatedAt: string
  [field: string]: unknown
}

/** What `service ls -o wide` adds: where each service runs and its git source. */
const WIDE_COLUMNS: Column<ServiceRow>[] = [
  { header: 'TARGET', value: (s) => describeObject(s.target) },
  { header: 'GIT', value: (s) => describeObject(s.git) },
]

/** Status lookups in flight at once: a long listing should not open a connection per service. */
const STATUS_CONCURRENCY = 8

/**
 * Each row with the `status` of GET /api/v1/services/{name} (the listing carries none: asking every
 * runtime is the costly part). A service whose status cannot be read shows its error instead.
 */
async function withStatus(client: ApiClient, rows: ServiceRow[]): Promise<ServiceRow[]> {
  let next = 0
  const fill = async () => {
    while (next < rows.length) {
      const row = rows[next++]!
      try {
        const shown = await client.request<{ status?: unknown }>(
          `/api/v1/services/${encode(row.name)}`,
        )
        row.status = shown.status ?? null
      } catch (error) {
        row.status = { error: (error as Error).message }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(STATUS_CONCURRENCY, rows.length) }, fill))
  return rows
}

/** kubectl's READY: `ready/desired`, or `-` when the driver cannot see its runtime. */
function readyOf(service: ServiceRow): string {
  const status = service.status as { ready?: unknown; desired?: unknown } | null | undefined
  return typeof status?.ready === 'number' && typeof status.desired === 'number'
    ? `${status.ready}/${status.desired}`
    : '-'
}

export function registerServiceCommands(program: Command, io: CliIo): void {
  const service = program
    .command('service')
    .description('list, add, show, change and remove services')

  withWatch(
    withLimit(withGlobalFlags(service.command('ls').alias('list').description('list services'))),
  ).action(async (flags: GlobalFlags & WatchFlags & { limit: number }) => {
    const client = clientFor(flags, io)
    const list = async () =>
      withStatus(client, await listAll<ServiceRow>(client, '/api/v1/services', {}, flags.limit))
    await showOrWatch(io, flags, list, (rows, wide) =>
      rows.length === 0
        ? 'no services yet; add one with `deckhand service add`\n'
        : formatTable(rows, [
            { header: 'NAME', value: (s) => s.name },
            { header: 'DRIVER', value: (s) => s.driver },
            {
              header: 'IMAGE',
              value: (s) => (s.image ? `${s.image}${s.tag ? `:${s.tag}` : ''}` : null),
            },
            { header: 'READY', value: readyOf, right: true },
            { header: 'REPLICAS', value: (s) => s.replicas, right: true },
            { header: 'SCALE', value: (s) => `${s.scale.min}..${s.scale.max}` },
            { header: 'TAG POLICY', value: (s) => s.tagPolicy },
            { header: 'UPDATED', value: (s) => formatAge(s.updatedAt, io.now()) },
            ...(wide ? WIDE_COLUMNS : []),
          ]),
    )
  })

  withGlobalFlags(
    service
      .command('add')
      .argument('[name]', 'service name (or `name` in the -f file)')
      .description('create a service from flags, a file, or both (flags win)')
      .option('-f, --file <file>', 'service spec as JSON or YAML (PRODUCT.md section 5a)')
      .addOption(
        new Option('--driver <driver>', 'runtime driver (default: process)').choices(DRIVER_NAMES),
      )
      .option('--target <json>', 'driver target as JSON, e.g. \'{"container":"web"}\'')
      .option(
        '--command <cmd>',
        'process: command line to run; command driver: the redeploy command',
      )
      .option(
        '--scale-command <cmd>',
        'command driver: the scale command ($DECKHAND_REPLICAS is the count)',
      )
      .option('--cwd <dir>', 'process/command: working directory')
      .option('--env <KEY=VALUE>', 'process: environment variable (repeatable)', collectEnv, {})
      .option('--replicas <n>', 'process: replicas to run', wholeNumber(0))
      .option(
        '--base-port <port>',
        'process: PORT of replica 0; replica i gets base + i',
        wholeNumber(1),
      )
      .option('--health <check>', 'process: http:/healthz | tcp | running:2s')
      .option('--container <name>', 'docker: the container to redeploy')
      .option('--image <repository>', 'image repository, matched against registry calls')
      .option(
        '--tag-policy <policy>',
        'all | force | semver-major|minor|patch | glob:<p> | regexp:<e>',
      )
      .option('--min <n>', 'scale.min, the fewest replicas scale-down leaves', wholeNumber(0))
      .option('--max <n>', 'scale.max, the most replicas scale-up makes', wholeNumber(0))
      .option('--git-repo <repo>', 'git source, e.g. acme/web: pushes to it redeploy this service')
      .option('--git-branch <branch>', 'git branch whose pushes count (default: any)')
      .option('--health-timeout <duration>', 'deploy.healthTimeout, e.g. 60s')
      .addOption(new Option('--order <order>', 'deploy.order').choices(DEPLOY_ORDERS))
      .addOption(new Option('--pull <policy>', 'deploy.pull').choices(PULL_POLICIES))
      .option('--no-rollback', 'deploy.rollback: false, keep failed new instances for inspection'),
  ).action(async (name: string | undefined, flags: AddFlags) => {
    const spec = await buildServiceSpec(name, flags)
    const created = await clientFor(flags, io).request<ServiceRow>('/api/v1/services', {
      method: 'POST',
      body: spec,
    })
    emit(io, flags, created, (s) => `created service ${s.name} (${s.driver})\n`)
  })

  withWatch(
    withGlobalFlags(
      service
        .command('show')
        .argument('<name>')
        .description(
          'describe a service: target, image, replicas, instances, last deployments, triggers',
        ),
    ),
  ).action(async (name: string, flags: GlobalFlags & WatchFlags) => {
    const client = clientFor(flags, io)
    const path = `/api/v1/services/${encode(name)}`
    const fetch = async () => {
      const [shown, triggers, deployments] = await Promise.all([
        client.request<ServiceRow>(path),
        listAll<TriggerRow>(client, `${path}/triggers`, {}, 1000),
        client.request<{ items: DeploymentRow[] }>('/api/v1/deployments', {
          query: { service: name, limit: 5 },
        }),
      ])
      return { ...shown, triggers, deployments: deployments.items }
    }
    await showOrWatch(io, flags, fetch, ({ triggers, deployments, ...shown }, wide) =>
      describeService({ service: shown as ServiceRow, triggers, deployments }, io, wide),
    )
  })

  registerServiceEditCommands(service, io)
  registerServiceWatchCommand(service, io)
  registerServiceFreezeCommands(service, io)

  withGlobalFlags(
    service.command('rm').argument('<name>').description('delete a service and its triggers'),
  ).action(async (name: string, flags: GlobalFlags) => {
    await clientFor(flags, io).request(`/api/v1/services/${encode(name)}`, { method: 'DELETE' })
    emit(io, flags, { name, deleted: true }, () => `removed service ${name}\n`)
  })
}

interface AddFlags extends GlobalFlags {
  file?: string
  driver?: string
  target?: string
  command?: string
  scaleCommand?: string
  cwd?: string
  env: Record<string, string>
  replicas?: number
  basePort?: number
  health?: string
  container?: string
  image?: string
  tagPolicy?: string
  min?: number
  max?: number
  gitRepo?: string
  gitBranch?: string
  healthTimeout?: string
  order?: string
  pull?: string
  rollback: boolean
}

/** The POST body: the file's fields, then each flag given on top. The server validates. */
export async function buildServiceSpec(
  name: string | undefined,
  flags: AddFlags,
): Promise<Record<string, unknown>> {
  const spec: Record<string, unknown> = flags.file ? await readSpecFile(flags.file) : {}
  if (name !== undefined) {
    spec.name = name
  }
  if (spec.name === undefined) {
    throw usageError('name the service: `deckhand service add <name> …` or `name:` in the -f file')
  }
  const driver = flags.driver ?? (spec.driver as string | undefined) ?? 'process'
  spec.driver = driver
  const target: Record<string, unknown> = {
    ...(isObject(spec.target) ? spec.target : {}),
    ...(flags.target !== undefined ? parseJsonObject('--target', flags.target) : {}),
  }
  const set = (key: string, value: unknown): void => {
    if (value !== undefined) {
      target[key] = value
    }
  }
  if (driver === 'command') {
    set('redeploy', flags.command)
    set('scale', flags.scaleCommand)
  } else {
    set('command', flags.command)
  }
  set('cwd', flags.cwd)
  if (Object.keys(flags.env).length > 0) {
    target.env = { ...(isObject(target.env) ? target.env : {}), ...flags.env }
  }
  set('basePort', flags.basePort)
  set('health', flags.health === undefined ? undefined : parseHealth(flags.health))
  set('container', flags.container)
  if (flags.replicas !== undefined) {
    if (driver === 'process') {
      target.replicas = flags.replicas
    } else {
      spec.replicas = flags.replicas
    }
  }
  spec.target = target
  Object.assign(spec, defined({ image: flags.image, tagPolicy: flags.tagPolicy }))
  if (flags.min !== undefined || flags.max !== undefined) {
    spec.scale = {
      ...(isObject(spec.scale) ? spec.scale : {}),
      ...defined({ min: flags.min, max: flags.max }),
    }
  }
  if (flags.gitRepo !== undefined || flags.gitBranch !== undefined) {
    spec.git = {
      ...(isObject(spec.git) ? spec.git : {}),
      ...defined({ repo: flags.gitRepo, branch: flags.gitBranch }),
    }
  }
  const deploy: Record<string, unknown> = {
    ...(isObject(spec.deploy) ? spec.deploy : {}),
    ...defined({ healthTimeout: flags.healthTimeout, order: flags.order, pull: flags.pull }),
    ...(flags.rollback === false ? { rollback: false } : {}),
  }
  if (Object.keys(deploy).length > 0) {
    spec.deploy = deploy
  }
  return spec
}

/** `http:/healthz`, `tcp`, `running:2s` → the process target's health object. */
export function parseHealth(text: string): Record<string, unknown> {
  if (text === 'tcp') {
    return { tcp: true }
  }
  const [kind, ...rest] = text.split(':')
  const value = rest.join(':')
  if (kind === 'http' && value.startsWith('/')) {
    return { http: value }
  }
  if ((kind === 'running' || kind === 'runningFor') && value !== '') {
    return { runningFor: value }
  }
  throw usageError(`--health must be http:/<path>, tcp or running:<duration>; got "${text}"`)
}

function collectEnv(pair: string, previous: Record<string, string>): Record<string, string> {
  const index = pair.indexOf('=')
  if (index <= 0) {
    throw usageError(`--env must be KEY=VALUE; got "${pair}"`)
  }
  return { ...previous, [pair.slice(0, index)]: pair.slice(index + 1) }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** The entries whose value was given. */
const defined = (fields: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined))
