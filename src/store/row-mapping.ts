/**
 * Rows to domain objects, shared by both backends. JSON columns arrive as text from SQLite and
 * as parsed values from PostgreSQL; `json()` accepts either.
 */
import type { RecordedCall } from '../model/call-accept.ts'
import { canonicalJson } from '../model/canonical-json.ts'
import type {
  AdminToken,
  Call,
  CallOutcome,
  DeployedSpec,
  Deployment,
  DeploymentAction,
  DeploymentState,
  DriverName,
  LogLine,
  Page,
  Service,
  ServiceFreeze,
  Stack,
  TriedChange,
  Trigger,
  TriggerOptions,
} from '../model/index.ts'
import { PENDING_STATES } from '../model/index.ts'
import type { ServiceInput } from './store.ts'

export type Row = Record<string, unknown>

/** PENDING_STATES as an SQL list, for `state IN …`: both backends spell it the same. */
export const PENDING_SQL = `(${PENDING_STATES.map((s) => `'${s}'`).join(', ')})`

function json<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T
}

function text(value: unknown): string | null {
  if (value === null || value === undefined) {
    return null
  }
  return value instanceof Date ? value.toISOString() : String(value)
}

/** The parts of a service kept in its `spec` column. */
export function serviceSpec(input: ServiceInput): string {
  // The git hosts' status blocks name their token's variable; the token itself is never stored.
  const { target, image, git, scale, tagPolicy, deploy, github, gitlab, gitea, bitbucket, notify } =
    input
  return JSON.stringify({
    ...(input.watch ? { watch: input.watch } : {}),
    target,
    image,
    git,
    scale,
    tagPolicy,
    deploy,
    github,
    gitlab,
    gitea,
    bitbucket,
    notify,
  })
}

/** What a new service runs: what its spec says, as it is created. */
export function deployedSpec(input: Pick<ServiceInput, 'target' | 'image'>): string {
  return JSON.stringify({ target: input.target, image: input.image })
}

type ServiceSpec = Omit<
  Service,
  'name' | 'driver' | 'tag' | 'replicas' | 'deployed' | 'createdAt' | 'updatedAt'
>

export function toService(row: Row): Service {
  const spec = json<ServiceSpec>(row.spec)
  return {
    name: String(row.name),
    driver: String(row.driver) as DriverName,
    ...spec,
    tag: text(row.tag),
    replicas: row.replicas === null || row.replicas === undefined ? null : Number(row.replicas),
    deployed:
      row.deployed_spec === null || row.deployed_spec === undefined
        ? null
        : json<DeployedSpec>(row.deployed_spec),
    createdAt: text(row.created_at)!,
    updatedAt: text(row.updated_at)!,
    // Shown only while frozen: most services never are.
    ...(row.frozen === null || row.frozen === undefined
      ? {}
      : { freeze: json<ServiceFreeze>(row.frozen) }),
  }
}

/**
 * The spec column after a redeploy that tried `tried` did not succeed: target and image back to
 * what runs. Undefined when there is nothing to put back, or when the row no longer shows what
 * was tried (an operator PATCHed it again while the deployment ran: theirs is newer).
 */
export function restoredSpec(
  specColumn: unknown,
  deployedColumn: unknown,
  tried: TriedChange,
): string | undefined {
  if (
    deployedColumn === null ||
    deployedColumn === undefined ||
    (!('target' in tried) && !('image' in tried))
  ) {
    return undefined
  }
  const spec = json<ServiceSpec>(specColumn)
  const deployed = json<DeployedSpec>(deployedColumn)
  const shows = (field: 'target' | 'image'): boolean =>
    !(field in tried) || canonicalJson(spec[field]) === canonicalJson(tried[field])
  if (!shows('target') || !shows('image')) {
    return undefined
  }
  return JSON.stringify({ ...spec, target: deployed.target, image: deployed.image })
}

export function toStack(row: Row): Stack {
  return {
    name: String(row.name),
    services: json<string[]>(row.services),
    createdAt: text(row.created_at)!,
    updatedAt: text(row.updated_at)!,
  }
}

export function toTrigger(row: Row): Trigger {
  const options = json<TriggerOptions>(row.options)
  return {
    ...options,
    // Triggers stored before secretEnvFromQuery existed mark no query variable secret.
    secretEnvFromQuery: options.secretEnvFromQuery ?? [],
    id: String(row.id),
    service: text(row.service),
    stack: text(row.stack),
    createdAt: text(row.created_at)!,
    revokedAt: text(row.revoked_at),
  }
}

export function toCall(row: Row): Call {
  return {
    id: String(row.id),
    triggerId: text(row.trigger_id),
    sender: text(row.sender),
    outcome: String(row.outcome) as CallOutcome,
    status: Number(row.status),
    reason: text(row.reason),
    deploymentIds: json<string[]>(row.deployment_ids),
    deliveryId: text(row.delivery_id),
    remoteAddress: text(row.remote_address),
    receivedAt: text(row.received_at)!,
  }
}

export function toDeployment(row: Row): Deployment {
  return {
    id: String(row.id),
    service: String(row.service),
    action: String(row.action) as DeploymentAction,
    state: String(row.state) as DeploymentState,
    params: json(row.params),
    input: json(row.input),
    calls: Number(row.calls),
    triggerId: text(row.trigger_id),
    createdAt: text(row.created_at)!,
    startedAt: text(row.started_at),
    finishedAt: text(row.finished_at),
    error: text(row.error),
    image: text(row.image),
    digest: text(row.digest),
    tried: row.tried === null || row.tried === undefined ? null : json<TriedChange>(row.tried),
    owner: text(row.owner),
    leaseExpiresAt: text(row.lease_expires_at),
    cancelRequested: Boolean(row.cancel_requested),
    hold:
      row.hold_reason === null || row.hold_reason === undefined
        ? null
        : { until: text(row.hold_until), reason: String(row.hold_reason) },
  }
}

export function toLogLine(row: Row): LogLine {
  return {
    seq: Number(row.seq),
    at: text(row.at)!,
    stream: String(row.stream) as LogLine['stream'],
    line: String(row.line),
  }
}

export function toAdminToken(row: Row): AdminToken {
  return {
    id: String(row.id),
    name: String(row.name),
    createdAt: text(row.created_at)!,
    lastUsedAt: text(row.last_used_at),
  }
}

/** Cursors are the row sequence number, opaque to callers. */
export function encodeCursor(seq: number): string {
  return Buffer.from(String(seq)).toString('base64url')
}

/** The sequence to page below; undefined for the first page, NaN-proof for junk cursors. */
export function decodeCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined || cursor === '') {
    return undefined
  }
  const seq = Number(Buffer.from(cursor, 'base64url').toString())
  return Number.isSafeInteger(seq) && seq > 0 ? seq : 0
}

/** Rows fetched as limit + 1, newest first, into a page with its next cursor. */
export function toPage<T>(rows: Row[], limit: number, map: (row: Row) => T): Page<T> {
  const items = rows.slice(0, limit)
  const last = items.at(-1)
  return {
    items: items.map(map),
    next: rows.length > limit && last ? encodeCursor(Number(last.seq)) : null,
  }
}

/**
 * A call's columns id, trigger_id, sender, outcome, status, reason, deployment_ids,
 * delivery_id, remote_address, in that order: both stores insert calls with them.
 */
export function callColumns(
  call: RecordedCall,
  deploymentIds: string[],
): (string | number | null)[] {
  return [
    call.id,
    call.triggerId,
    call.sender,
    call.outcome,
    call.status,
    call.reason,
    JSON.stringify(deploymentIds),
    call.deliveryId,
    call.remoteAddress,
  ]
}
