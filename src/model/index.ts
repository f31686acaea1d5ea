/**
 * Domain types shared by every layer, and the closed lists they draw from.
 *
 * Glossary:
 * - driver: how Deckhand acts on a runtime (process, command, docker, swarm, kubernetes).
 * - service: a named deployable unit on one driver, with a target, scale bounds and policies.
 * - stack: a named group of services, redeployed together or selectively.
 * - trigger: a secret URL bound to one service or one stack, with an action and options.
 * - call: one HTTP request to a trigger URL, recorded whatever its outcome.
 * - deployment: one unit of work on one service, queued → running → succeeded/failed/canceled.
 * - sender: the machine that called a trigger (Docker Hub, GitHub, …), recognised from the request.
 * - action: what a trigger does: redeploy, scale-up or scale-down.
 */

export const DRIVER_NAMES = ['process', 'command', 'docker', 'swarm', 'kubernetes'] as const
export type DriverName = (typeof DRIVER_NAMES)[number]

/** What a trigger asks for. */
export const ACTIONS = ['redeploy', 'scale-up', 'scale-down'] as const
export type Action = (typeof ACTIONS)[number]

/** What a deployment does; scale-up and scale-down become one `scale` with a signed step. */
export const DEPLOYMENT_ACTIONS = ['redeploy', 'scale', 'rollback'] as const
export type DeploymentAction = (typeof DEPLOYMENT_ACTIONS)[number]

export const DEPLOYMENT_STATES = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number]
export const FINAL_STATES: readonly DeploymentState[] = ['succeeded', 'failed', 'canceled']

export const CALL_OUTCOMES = ['queued', 'coalesced', 'ignored', 'duplicate', 'rejected'] as const
export type CallOutcome = (typeof CALL_OUTCOMES)[number]

export const DEPLOY_ORDERS = ['start-first', 'stop-first'] as const
export type DeployOrder = (typeof DEPLOY_ORDERS)[number]

export const PULL_POLICIES = ['always', 'missing', 'never'] as const
export type PullPolicy = (typeof PULL_POLICIES)[number]

export const SENDER_IDS = [
  'auto',
  'generic',
  'dockerhub',
  'github',
  'gitlab',
  'bitbucket',
  'gitea',
  'alertmanager',
  'harbor',
  'quay',
  'acr',
] as const
export type SenderId = (typeof SENDER_IDS)[number]

export interface GitSource {
  /** The repository pushes name (`acme/web`), or its clone URL; matched without case. */
  repo: string
  /** Where `build` clones from, when `repo` is a name rather than a URL or path. */
  url?: string
  branch?: string
  paths?: string[]
  build?: { context?: string; dockerfile?: string }
}

/** Where a service reports its deployments on GitHub (Deployments API). `token` is a secret. */
export interface GitHubReporting {
  token: string
  /** GitHub Enterprise Server's API root; https://api.github.com when absent. */
  apiUrl?: string
}

export const NOTIFY_FORMATS = ['json', 'slack'] as const
export type NotifyFormat = (typeof NOTIFY_FORMATS)[number]

/** An outgoing webhook told of a service's deployments; `secret` signs JSON bodies. */
export interface NotifyTarget {
  url: string
  format: NotifyFormat
  secret?: string
}

export interface ScaleBounds {
  min: number
  max: number
}

export interface DeployPolicy {
  order: DeployOrder
  healthTimeoutMs: number
  pull: PullPolicy
  rollback: boolean
  /** Times a failed redeploy or scale is tried again within its deployment; 0 when absent. */
  retries?: number
  /** The wait before the first retry, doubling for each next one; 5000 when absent. */
  retryBackoffMs?: number
  /**
   * Docker: how long a new container without a HEALTHCHECK must keep running to count as
   * healthy (`deploy.settle`); the driver's default, 2000, when absent.
   */
  settleMs?: number
}

/** A service as stored; `target` is the driver's own options object, checked by the driver. */
export interface Service {
  name: string
  driver: DriverName
  target: Record<string, unknown>
  image: string | null
  /** The image tag the service runs now, as far as Deckhand knows. */
  tag: string | null
  git: GitSource | null
  scale: ScaleBounds
  tagPolicy: string
  deploy: DeployPolicy
  /** Report deployments to GitHub as deployments and statuses of the commit. */
  github?: GitHubReporting | null
  /** Outgoing webhooks told of every deployment's start and end. */
  notify?: NotifyTarget[]
  /** The replica count Deckhand last set, or null when the runtime decides. */
  replicas: number | null
  createdAt: string
  updatedAt: string
}

export interface Stack {
  name: string
  services: string[]
  createdAt: string
  updatedAt: string
}

export interface TriggerOptions {
  name: string
  action: Action
  by: number
  sender: SenderId
  secret: string | null
  allowIps: string[]
  passBody: boolean
  envFromQuery: string[]
  allowTag: boolean
  reverseOnResolve: boolean
  cooldownMs: number
  rateLimit: { count: number; perMs: number }
}

/** A trigger as stored: only the SHA-256 of its token is kept. */
export interface Trigger extends TriggerOptions {
  id: string
  service: string | null
  stack: string | null
  createdAt: string
  revokedAt: string | null
}

export interface DeploymentParams {
  tag?: string
  /** Net scale step, signed. */
  by?: number
  /** Absolute replica count, for manual scale and rollbacks. */
  replicas?: number
}

/** What a deployment hands its driver besides the action: the section-4 environment. */
export interface DeploymentInput {
  triggerName: string | null
  env: Record<string, string>
  body: string | null
  bodyTooLarge: boolean
  gitCommit: string | null
  gitBranch: string | null
  /** The git repository (`owner/name`) the call named, for reporting back to GitHub. */
  gitRepository?: string | null
  /** Docker Hub's `callback_url`, answered with the outcome when the deployment ends. */
  callbackUrl?: string | null
}

export interface Deployment {
  id: string
  service: string
  action: DeploymentAction
  state: DeploymentState
  params: DeploymentParams
  input: DeploymentInput
  calls: number
  triggerId: string | null
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
  error: string | null
  owner: string | null
  leaseExpiresAt: string | null
  cancelRequested: boolean
}

export interface Call {
  id: string
  triggerId: string | null
  sender: string | null
  outcome: CallOutcome
  status: number
  reason: string | null
  deploymentIds: string[]
  deliveryId: string | null
  remoteAddress: string | null
  receivedAt: string
}

export interface AdminToken {
  id: string
  name: string
  createdAt: string
  lastUsedAt: string | null
}

export interface LogLine {
  seq: number
  at: string
  stream: 'deckhand' | 'stdout' | 'stderr'
  line: string
}

export interface Page<T> {
  items: T[]
  next: string | null
}

export interface PageRequest {
  limit: number
  cursor?: string | undefined
}
