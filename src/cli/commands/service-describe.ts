/**
 * `deckhand service show` for a person, as `kubectl describe` reads: where the service runs,
 * what image, how many replicas are ready, each instance's health, the last deployments and
 * the triggers. Fields the server does not give are left out rather than guessed.
 */
import {
  type CliIo,
  describeObject,
  firstLine,
  formatAge,
  formatElapsed,
  formatFields,
  formatTable,
} from '../output.ts'
import { type DeploymentRow, describeParams, ERROR_WIDTH } from './deploy.ts'
import type { ServiceRow } from './service.ts'
import { triggerColumns, type TriggerRow } from './trigger.ts'

/** What the service's `status` may carry: what the driver reports, read defensively. */
interface StatusView {
  replicas?: number | null
  ready?: number | null
  desired?: number | null
  image?: string | null
  digest?: string | null
  healthy?: boolean | null
  items?: InstanceView[]
  detail?: string
  error?: string
  /** How the runtime differs from what Deckhand last deployed. */
  drift?: unknown
}

/** Fields the description places itself; any other field of the service is listed after them. */
const PLACED = new Set([
  'name',
  'driver',
  'target',
  'image',
  'tag',
  'replicas',
  'scale',
  'tagPolicy',
  'git',
  'deploy',
  'createdAt',
  'updatedAt',
  'status',
])

interface InstanceView {
  id?: string
  state?: string
  health?: string
  healthy?: boolean | null
  restarts?: number
  pid?: number
  container?: string
  port?: number | string
  startedAt?: string
  detail?: string
}

export interface ServiceDescription {
  service: ServiceRow & { status?: StatusView }
  deployments: DeploymentRow[]
  triggers: TriggerRow[]
}

const isNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value)

export function describeService(
  { service, deployments, triggers }: ServiceDescription,
  io: CliIo,
  wide: boolean,
): string {
  const status = (service.status ?? {}) as StatusView
  const head = formatFields({
    name: service.name,
    driver: service.driver,
    target: describeObject(service.target) ?? '-',
    image: imageLine(service, status, deployments),
    replicas: replicasLine(service, status),
    health: healthLine(status),
    scale: `${service.scale.min}..${service.scale.max}`,
    'tag policy': service.tagPolicy,
    git: describeObject(service.git) ?? undefined,
    deploy: describeObject(service.deploy) ?? undefined,
    runtime: status.error ?? status.detail,
    drift:
      status.drift === undefined || status.drift === null
        ? undefined
        : (describeObject(status.drift) ?? undefined),
    ...Object.fromEntries(
      Object.entries(service)
        .filter(([key, value]) => !PLACED.has(key) && value !== undefined && value !== null)
        .map(([key, value]) => [key, describeObject(value) ?? '-']),
    ),
    created:
      typeof service.createdAt === 'string' ? formatAge(service.createdAt, io.now()) : undefined,
    updated: formatAge(service.updatedAt, io.now()),
  })
  return [
    head,
    section('instances', instancesTable(status.items ?? [], io), 'the driver reports no instances'),
    section(
      'last deployments',
      deployments.length === 0 ? '' : formatTable(deployments, deploymentColumns(io, wide)),
      `none yet; deploy with \`deckhand redeploy ${service.name}\``,
    ),
    section(
      'triggers',
      triggers.length === 0 ? '' : formatTable(triggers, triggerColumns(io)),
      `none; add one with \`deckhand trigger add ${service.name}\``,
    ),
  ].join('\n')
}

/** `acme/web:v2 @ sha256:…`: the image the runtime reports, else the last deployment's, else the service's. */
function imageLine(service: ServiceRow, status: StatusView, deployments: DeploymentRow[]): string {
  const deployed = deployments.find((d) => d.state === 'succeeded') as
    (DeploymentRow & { image?: string; digest?: string }) | undefined
  const image =
    status.image ??
    deployed?.image ??
    (service.image ? `${service.image}${service.tag ? `:${service.tag}` : ''}` : null)
  const digest = status.digest ?? deployed?.digest
  if (!image) {
    return '-'
  }
  return digest ? `${image} @ ${digest}` : image
}

/** `2/3 ready` when the server counts ready instances; else what it does know. */
function replicasLine(service: ServiceRow, status: StatusView): string {
  if (isNumber(status.ready) && isNumber(status.desired)) {
    return `${status.ready}/${status.desired} ready`
  }
  const parts: string[] = []
  if (isNumber(service.replicas)) {
    parts.push(`${service.replicas} desired`)
  }
  if (isNumber(status.replicas)) {
    parts.push(`${status.replicas} running`)
  }
  return parts.join(', ') || '-'
}

function healthLine(status: StatusView): string {
  if (status.healthy === true) {
    return 'healthy'
  }
  if (status.healthy === false) {
    return 'unhealthy'
  }
  return 'unknown'
}

function instancesTable(items: InstanceView[], io: CliIo): string {
  if (items.length === 0) {
    return ''
  }
  const has = (key: keyof InstanceView): boolean => items.some((item) => item[key] !== undefined)
  return formatTable(items, [
    { header: 'REPLICA', value: (i) => i.id },
    { header: 'STATE', value: (i) => i.state },
    ...(has('health') || has('healthy')
      ? [
          {
            header: 'HEALTH',
            value: (i: InstanceView) =>
              i.health ??
              (i.healthy === undefined || i.healthy === null
                ? null
                : i.healthy
                  ? 'healthy'
                  : 'unhealthy'),
          },
        ]
      : []),
    ...(has('pid') ? [{ header: 'PID', value: (i: InstanceView) => i.pid, right: true }] : []),
    ...(has('container') ? [{ header: 'CONTAINER', value: (i: InstanceView) => i.container }] : []),
    ...(has('port') ? [{ header: 'PORT', value: (i: InstanceView) => i.port, right: true }] : []),
    { header: 'RESTARTS', value: (i) => i.restarts ?? 0, right: true },
    ...(has('startedAt')
      ? [{ header: 'STARTED', value: (i: InstanceView) => formatAge(i.startedAt, io.now()) }]
      : []),
    { header: 'DETAIL', value: (i) => i.detail },
  ])
}

function deploymentColumns(io: CliIo, wide: boolean) {
  return [
    { header: 'ID', value: (d: DeploymentRow) => d.id },
    { header: 'ACTION', value: (d: DeploymentRow) => d.action },
    { header: 'STATE', value: (d: DeploymentRow) => d.state },
    { header: 'PARAMS', value: (d: DeploymentRow) => describeParams(d.params) },
    { header: 'CREATED', value: (d: DeploymentRow) => formatAge(d.createdAt, io.now()) },
    { header: 'TOOK', value: (d: DeploymentRow) => formatElapsed(d.startedAt, d.finishedAt) },
    {
      header: 'ERROR',
      value: (d: DeploymentRow) => firstLine(d.error, wide ? Infinity : ERROR_WIDTH),
    },
  ]
}

/** A titled block whose table is indented under its title, or a one-line note when empty. */
function section(title: string, table: string, empty: string): string {
  if (table === '') {
    return `${title}: ${empty}\n`
  }
  return `${title}:\n${table.replace(/^(?=.)/gm, '  ')}`
}
