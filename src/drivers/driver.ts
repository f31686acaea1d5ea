/**
 * The driver interface: how Deckhand acts on one kind of runtime. Every driver runs inside
 * GuardedDriver, which enforces deadlines and turns throws into failed outcomes.
 */
import type { DriverName, Service } from '../model/index.ts'

export interface DriverCapabilities {
  /** The driver can change the replica count. Default true. */
  canScale: boolean
  /**
   * The driver can run a new image tag (the command driver hands it to its command); false for
   * process, whose services run a command, not an image: a call's `?tag=` is refused there.
   * Default false.
   */
  canChangeTag: boolean
  /** The driver restores the old instances itself when new ones fail. Default false. */
  canRollBack: boolean
  /** The driver waits for the new instances to be healthy before it reports success. */
  waitsForHealth: boolean
}

/** What a redeploy changes, and the section-4 environment the new instances receive. */
export interface RedeployChange {
  /** The image tag to run; undefined keeps the current one. */
  tag: string | undefined
  /** Variables added to the instances' environment (DECKHAND_* and allow-listed query ones). */
  env: Record<string, string>
  /**
   * Set when the service has `git.build` and the call named a commit: the driver builds
   * `<image>:<short sha>` from that commit first and runs it, in place of `tag`. The worker
   * sets it for docker services only, so no other driver has to refuse it.
   */
  build?: GitBuild
  /**
   * The manifest digest to run the image by (`repo:tag@sha256:…`): what resolveImage found,
   * or the digest a rollback goes back to. Absent: the tag is run as the engine has it.
   */
  digest?: string
}

/** An image reference and the manifest digest its tag named when it was resolved. */
export interface ResolvedImage {
  /** The reference without a digest, `host:port/acme/web:2`. */
  image: string
  /** `sha256:…`, or null when the image is only on the engine and no registry was asked. */
  digest: string | null
}

/**
 * `change` moved to `tag`: its `tag` and the DECKHAND_IMAGE_TAG its instances and commands
 * see, set together here and nowhere else. With no tag, the variable names `running`, the tag
 * the service runs now, when Deckhand knows it.
 */
export function changeWithTag(
  change: RedeployChange,
  tag: string | undefined,
  running: string | null = null,
): RedeployChange {
  const shown = tag ?? running
  return { ...change, tag, env: shown ? { ...change.env, DECKHAND_IMAGE_TAG: shown } : change.env }
}

/** A commit to build an image from (PRODUCT.md section 3, git-backed services). */
export interface GitBuild {
  /** What `git clone` takes: a URL or a local path (the service's `git.repo`). */
  repo: string
  /** The commit to check out, as the call named it (full or abbreviated sha). */
  commit: string
  /** The build context, relative to the repository root. */
  context: string
  /** The Dockerfile, relative to the context. */
  dockerfile: string
}

/** A line of a deployment's log, from Deckhand itself or from the runtime's output. */
export type LogWriter = (line: string, stream?: 'deckhand' | 'stdout' | 'stderr') => void

export interface DriverContext {
  /** Aborted when the deployment is canceled or its deadline passes. */
  signal: AbortSignal
  /** Epoch milliseconds by which the driver must have returned. */
  deadline: number
  deploymentId: string
  log: LogWriter
}

export type DriverOutcome =
  | { state: 'succeeded'; replicas?: number | null; tag?: string | null }
  | { state: 'failed'; error: string }

export interface ReplicaStatus {
  id: string
  state: 'starting' | 'running' | 'restarting' | 'crashed' | 'stopped'
  detail?: string
  restarts?: number
  /** The process id, for the process driver. */
  pid?: number
  /** The container's short id (12 characters), for docker and swarm. */
  container?: string
  /** Where the instance listens, as the runtime says it: `8080`, `0.0.0.0:8080->80/tcp`. */
  port?: string
  /** The runtime's own health verdict (`healthy`, `unhealthy`, `starting`), when it has a check. */
  health?: string
  /** When the instance's current process started, ISO 8601. */
  startedAt?: string
}

export interface ServiceStatus {
  /** Replicas the runtime reports, or null when it cannot tell. */
  replicas: number | null
  /**
   * Instances running and healthy (kubectl's READY numerator), or null when the driver cannot
   * see the runtime (the command driver); `detail` then says why.
   */
  ready: number | null
  /** Instances that should run: what Deckhand last set, or the runtime's own spec; null as above. */
  desired: number | null
  /**
   * What the runtime no longer has as Deckhand last deployed it (a replica removed or added by
   * hand), one sentence each; absent when it matches or the driver cannot tell.
   */
  drift?: string[]
  image: string | null
  healthy: boolean | null
  items: ReplicaStatus[]
  detail?: string
}

export interface Driver {
  /** The name services use in their `driver` field. */
  readonly name: DriverName
  readonly capabilities: DriverCapabilities
  /** Problems with a service's target, as sentences naming the field; empty when valid. */
  checkTarget(target: Record<string, unknown>): string[]
  /** Replaces the running instances; a deploy that does not work is a failed outcome. */
  redeploy(service: Service, change: RedeployChange, ctx: DriverContext): Promise<DriverOutcome>
  /**
   * Optional: the image a redeploy with `change` would run and the digest its tag names now,
   * asked before anything is touched; null when the driver runs no image it can name. With
   * `change.digest` set (a rollback) that digest is the answer, no registry asked. A throw
   * (a tag the registry does not know, with its answer) fails the deployment unchanged.
   */
  resolveImage?(
    service: Service,
    change: RedeployChange,
    ctx: DriverContext,
  ): Promise<ResolvedImage | null>
  /** Sets the replica count (already clamped to the service's bounds). */
  scale(
    service: Service,
    replicas: number,
    change: RedeployChange,
    ctx: DriverContext,
  ): Promise<DriverOutcome>
  /** What runs now. */
  inspect(service: Service): Promise<ServiceStatus>
  /**
   * Called at start, when a service is changed, and when one is created on any driver but
   * process, whose first start is a deployment (the process driver adopts and starts missing
   * replicas here at start only: a change to the row is run by the next deployment).
   */
  attach(service: Service): Promise<void>
  /** Called when a service is deleted (the process driver stops its replicas here). */
  detach(service: Service): Promise<void>
  /**
   * Optional: the reason a failed deployment records when redeploy or scale threw something
   * other than a DeployFailure or DeckhandError (already worded for the reader), e.g. a raw
   * engine error named with the engine's address. Absent, the error's own message is used.
   */
  describeFailure?(error: unknown): string
  /** Resolves when the runtime can be reached; throws a message naming what cannot. */
  ping(): Promise<void>
  /** Releases resources; supervised processes are left running for the next start to adopt. */
  close(): Promise<void>
}
