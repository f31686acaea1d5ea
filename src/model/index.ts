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
 * - vote: an admin's approve or reject of a deployment awaiting approval, with a note.
 */

export const DRIVER_NAMES = ['process', 'command', 'docker', 'swarm', 'kubernetes'] as const
export type DriverName = (typeof DRIVER_NAMES)[number]

/** What a trigger asks for. */
export const ACTIONS = ['redeploy', 'scale-up', 'scale-down'] as const
export type Action = (typeof ACTIONS)[number]

/** What a deployment does; scale-up and scale-down become one `scale` with a signed step. */
export const DEPLOYMENT_ACTIONS = ['redeploy', 'scale', 'rollback'] as const
export type DeploymentAction = (typeof DEPLOYMENT_ACTIONS)[number]

export const DEPLOYMENT_STATES = [
  'awaiting-approval',
  'held',
  'queued',
  'running',
  'succeeded',
  'failed',
  'canceled',
] as const
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number]
/**
 * States of a deployment that has not started: waiting for votes (`awaiting-approval`), for a
 * change window or the end of a freeze (`held`), or for the worker (`queued`). A service has at
 * most one pending deployment per action: calls join it, and it can always be canceled.
 */
export const PENDING_STATES = ['awaiting-approval', 'held', 'queued'] as const
export type PendingState = (typeof PENDING_STATES)[number]
export function isPending(state: DeploymentState): state is PendingState {
  return (PENDING_STATES as readonly string[]).includes(state)
}
export const FINAL_STATES: readonly DeploymentState[] = ['succeeded', 'failed', 'canceled']

export const CALL_OUTCOMES = ['queued', 'coalesced', 'ignored', 'duplicate', 'rejected'] as const
export type CallOutcome = (typeof CALL_OUTCOMES)[number]

export const DEPLOY_ORDERS = ['start-first', 'stop-first'] as const
export type DeployOrder = (typeof DEPLOY_ORDERS)[number]

export const PULL_POLICIES = ['always', 'missing', 'never'] as const
export type PullPolicy = (typeof PULL_POLICIES)[number]

/** The tag policies that take no argument (src/policy/tag-policy.ts parses them). */
export const TAG_POLICY_NAMES = [
  'all',
  'force',
  'semver-major',
  'semver-minor',
  'semver-patch',
] as const
export type TagPolicyName = (typeof TAG_POLICY_NAMES)[number]
/** The tag policies written with a pattern after a colon: `glob:v1.*`, `regexp:^v\d+$`. */
export const TAG_POLICY_PATTERNS = ['glob', 'regexp'] as const

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
  'registry',
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

/** Git hosts besides GitHub that a service can report its deployments to as commit statuses. */
export const STATUS_HOSTS = ['gitlab', 'gitea', 'bitbucket'] as const
export type StatusHost = (typeof STATUS_HOSTS)[number]

/**
 * Where a service reports its deployments as commit statuses on GitLab, Gitea/Forgejo or
 * Bitbucket Cloud. The token is never stored: `tokenEnv` names the variable of Deckhand's own
 * environment that holds it.
 */
export interface StatusReporting {
  /** The API root the operator chose (a self-hosted GitLab, Gitea); absent, the host's own. */
  apiUrl?: string
  /** `DECKHAND_GITLAB_TOKEN` (…_GITEA_…, …_BITBUCKET_…), or that name followed by `_…`. */
  tokenEnv: string
  /** Bitbucket only: the user (or e-mail) of an app password or API token, sent as Basic auth. */
  username?: string
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

/** A service's scale bounds when its spec names none. */
export const DEFAULT_SCALE: Readonly<ScaleBounds> = Object.freeze({ min: 0, max: 10 })

export interface DeployPolicy {
  order: DeployOrder
  healthTimeoutMs: number
  pull: PullPolicy
  rollback: boolean
  /** A redeploy whose digest equals the one running succeeds at once; false when absent. */
  skipUnchanged?: boolean
  /** Times a failed redeploy or scale is tried again within its deployment; 0 when absent. */
  retries?: number
  /** The wait before the first retry, doubling for each next one; 5000 when absent. */
  retryBackoffMs?: number
  /**
   * Docker: how long a new container without a HEALTHCHECK must keep running to count as
   * healthy (`deploy.settle`); the driver's default, 2000, when absent.
   */
  settleMs?: number
  /** Runs before the runtime is touched; when it fails, so does the deployment. */
  before?: DeployHook
  /** Runs once the outcome is known, whatever it is, and never changes it. */
  after?: DeployHook
  /** Votes a deployment needs before it is queued (`deploy.approvals`); none when absent. */
  approvals?: ApprovalPolicy
  /** When deployments may start (`deploy.windows`); outside every one they wait `held`. */
  windows?: ChangeWindow[]
  /** An automatic rollback freezes the service with its reason; false when absent. */
  freezeOnRollback?: boolean
}

/** The most approvals a service may require: more admins than this never vote on one change. */
export const MAX_APPROVALS = 10

/** `deploy.approvals`: how many admins must approve a deployment, and how long they have. */
export interface ApprovalPolicy {
  /** Approvals, from distinct admin tokens, that move a deployment to `queued`. */
  required: number
  /** How long after it was created an awaiting deployment is canceled. */
  deadlineMs: number
}

export const VOTES = ['approve', 'reject'] as const
export type Vote = (typeof VOTES)[number]

/** One admin's vote on a deployment awaiting approval; one per token and deployment. */
export interface DeploymentVote {
  deploymentId: string
  tokenId: string
  /** The admin token's name when it voted: who it was. */
  tokenName: string
  vote: Vote
  note: string | null
  at: string
}

/** A service names at most this many change windows: every check walks all of them. */
export const MAX_WINDOWS = 20

/**
 * A change window as written (`deploy.windows`): `days` such as `mon-fri`, `hours` such as
 * `09:00-17:00` (or `22:00-02:00`, opening on one of `days` and closing the next morning) and
 * an IANA `timezone`. Checked in release/windows.ts.
 */
export interface ChangeWindow {
  days: string
  hours: string
  timezone: string
}

/** A service's freeze: every new deployment is held until it ends (`until`) or is lifted. */
export interface ServiceFreeze {
  /** When it ends by itself (ISO); null until `DELETE …/freeze`. */
  until: string | null
  message: string
  /** Who froze it: an admin token's name, or `deckhand` after an automatic rollback. */
  by: string
  /** When it was frozen (ISO). */
  at: string
}

/** Why a `held` deployment waits, and until when (ISO; null while a freeze has no end). */
export interface DeploymentHold {
  until: string | null
  reason: string
}

/** A `deploy.before` / `deploy.after` shell command run on Deckhand's host. */
export interface DeployHook {
  /** The command, run with `/bin/sh -c`. */
  run: string
  /** How long it may run before it is killed. */
  timeoutMs: number
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
  /** Report deployments as GitLab commit statuses of the call's commit. */
  gitlab?: StatusReporting | null
  /** Report deployments as Gitea or Forgejo commit statuses of the call's commit. */
  gitea?: StatusReporting | null
  /** Report deployments as Bitbucket Cloud build statuses of the call's commit. */
  bitbucket?: StatusReporting | null
  /** Outgoing webhooks told of every deployment's start and end. */
  notify?: NotifyTarget[]
  /** Deckhand polls the image's registry and redeploys on a change (src/watch/). */
  watch?: WatchSpec | null
  /** The freeze in force, if any (state, not spec: config files never change it). */
  freeze?: ServiceFreeze | null
  /** The replica count Deckhand last set, or null when the runtime decides. */
  replicas: number | null
  /**
   * The target and image the runtime runs: as created, then as the last successful redeploy or
   * rollback put them there. A PATCH changes `target` and `image` but not this, until a
   * redeploy runs them; a failed one puts them back from here. Absent on services not read
   * from a store.
   */
  deployed?: DeployedSpec | null
  createdAt: string
  updatedAt: string
}

/** The sender of the calls a registry watch makes (PRODUCT.md section 10). */
export const WATCH_SENDER = 'watch'

/** A service's `watch`: how often to ask the registry, and which change redeploys. */
export interface WatchSpec {
  intervalMs: number
  /**
   * `same`: the running tag's digest is asked again, and a new one redeploys that tag; else a
   * tag policy, and the newest tag of the repository it allows redeploys.
   */
  tags: string
}

/** The part of a service's spec a redeploy puts on the runtime. */
export interface DeployedSpec {
  target: Record<string, unknown>
  image: string | null
}

/**
 * What a redeploy or rollback that did not succeed tried, where it differs from what runs: the
 * service's target or image as the row showed them (a PATCH no redeploy had run yet) and the tag
 * the deployment asked for. The row is put back to what runs; this keeps what was tried.
 */
export interface TriedChange {
  target?: Record<string, unknown>
  image?: string | null
  tag?: string
}

export interface Stack {
  name: string
  services: string[]
  createdAt: string
  updatedAt: string
}

/** Where a call condition reads its value: a header, a query parameter, or a path into the body. */
export const MATCH_SOURCES = ['header', 'query', 'body'] as const
export type MatchSource = (typeof MATCH_SOURCES)[number]

/** How a call condition tests the value it read. */
export const MATCH_OPERATORS = ['equals', 'in', 'regex', 'exists'] as const
export type MatchOperator = (typeof MATCH_OPERATORS)[number]

/** The groups that combine call conditions; every group a node names must hold. */
export const MATCH_GROUPS = ['all', 'any', 'not'] as const

/** A scalar a condition compares with; values compare as text, so 5 and "5" are equal. */
export type MatchValue = string | number | boolean | null

/**
 * A trigger's `match`, as written: a group (`all`, `any`, `not`) or one condition (a source
 * and an operator). PRODUCT.md section 10; docs/release-control.md.
 */
export interface CallMatch {
  /** Every entry must hold. */
  all?: CallMatch[]
  /** At least one entry must hold. */
  any?: CallMatch[]
  /** The node must not hold. */
  not?: CallMatch
  /** Reads a request header (stored lower-case). */
  header?: string
  /** Reads a query parameter. */
  query?: string
  /** Reads a JSON or form body by a path of keys and `[index]` steps. */
  body?: string
  /** Holds when the value equals this one, compared as text. */
  equals?: MatchValue
  /** Holds when the value equals one of these. */
  in?: MatchValue[]
  /** Holds when this RE2 expression finds a match in the value. */
  regex?: string
  /** Holds when the value is there (true) or is not (false). */
  exists?: boolean
}

/** A trigger's step and sender when its spec names none. */
export const TRIGGER_DEFAULTS: Readonly<{ by: number; sender: SenderId }> = Object.freeze({
  by: 1,
  sender: 'auto',
})

export interface TriggerOptions {
  name: string
  action: Action
  by: number
  sender: SenderId
  secret: string | null
  allowIps: string[]
  passBody: boolean
  envFromQuery: string[]
  /** Names of `envFromQuery` whose values are secrets: redacted wherever Deckhand records text. */
  secretEnvFromQuery: string[]
  allowTag: boolean
  reverseOnResolve: boolean
  cooldownMs: number
  rateLimit: { count: number; perMs: number }
  /** Conditions a call must meet, else it is ignored; null (or absent, on older triggers): none. */
  match?: CallMatch | null
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
  /** The manifest digest to run, pinned: a rollback's way back to exactly what ran before. */
  digest?: string
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

/** The input of a deployment no trigger call carried: asked for by an admin or by a watch. */
export function noCallInput(): DeploymentInput {
  return {
    triggerName: null,
    env: {},
    body: null,
    bodyTooLarge: false,
    gitCommit: null,
    gitBranch: null,
  }
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
  /** The image reference a succeeded redeploy or rollback ran (`host/acme/web:2`), else null. */
  image: string | null
  /** The manifest digest that image named when it was deployed, or null when none was known. */
  digest: string | null
  /**
   * Set on a redeploy or rollback that failed or was canceled after it changed something; null
   * otherwise (absent on a deployment just queued, which has tried nothing yet).
   */
  tried?: TriedChange | null
  owner: string | null
  leaseExpiresAt: string | null
  cancelRequested: boolean
  /** While `held`: why and until when; null otherwise (absent on rows not read from a store). */
  hold?: DeploymentHold | null
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
