// The admin API's shapes as the UI reads them (PRODUCT.md section 5a).

export interface Page<T> {
  items: T[]
  next: string | null
}

export const DEPLOY_ORDERS = ['start-first', 'stop-first'] as const
export const PULL_POLICIES = ['always', 'missing', 'never'] as const

export interface DeployPolicy {
  order: (typeof DEPLOY_ORDERS)[number]
  /** A duration as the API shows it: `1m`, `30s`. */
  healthTimeout: string
  pull: (typeof PULL_POLICIES)[number]
  rollback: boolean
}

export interface Service {
  name: string
  driver: string
  target: Record<string, unknown>
  image: string | null
  tag: string | null
  replicas: number | null
  scale: { min: number; max: number }
  tagPolicy: string
  deploy: DeployPolicy
  createdAt: string
  status?: {
    replicas: number | null
    /** One per instance; the process driver knows pids and ports, docker and swarm containers. */
    items?: Instance[]
    /** Instances running and healthy, and those that should run; null when the driver cannot see. */
    ready?: number | null
    desired?: number | null
    error?: string
    image: string | null
    healthy: boolean | null
    detail?: string
  }
}

export interface Instance {
  id: string
  state: 'starting' | 'running' | 'restarting' | 'crashed' | 'stopped'
  detail?: string
  restarts?: number
  pid?: number
  container?: string
  port?: string
  health?: string
  startedAt?: string
}

export interface Stack {
  name: string
  services: string[]
  createdAt: string
}

/** Where a trigger belongs: the API path segment and the owner's name. */
export interface TriggerOwner {
  kind: 'services' | 'stacks'
  name: string
}

export interface Trigger {
  id: string
  name: string
  action: string
  by: number
  sender: string
  hasSecret: boolean
  allowIps: string[]
  envFromQuery: string[]
  createdAt: string
  revokedAt: string | null
}

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

export interface Deployment {
  id: string
  service: string
  action: string
  state: DeploymentState
  params: { tag?: string; by?: number; replicas?: number }
  calls: number
  triggerId: string | null
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
  error: string | null
  /** Only on GET /deployments/{id}: why it exists. */
  cause?: DeploymentCause
  /** On GET /deployments/{id} and votes: the service's deploy.approvals and the votes cast. */
  approvals?: Approvals
}

export interface Approvals {
  required: number | null
  deadline: string | null
  votes: { by: string; vote: 'approve' | 'reject'; note: string | null; at: string }[]
}

export interface DeploymentCause {
  trigger: string | null
  service: string | null
  stack: string | null
  sender: string | null
  remoteAddress: string | null
  receivedAt: string | null
  callId: string | null
  commit: string | null
  branch: string | null
  repository: string | null
}

export const CALL_OUTCOMES = ['queued', 'coalesced', 'ignored', 'duplicate', 'rejected'] as const

export interface Call {
  id: string
  triggerId: string | null
  sender: string | null
  outcome: string
  status: number
  reason: string | null
  deploymentIds: string[]
  remoteAddress: string | null
  receivedAt: string
  /** The trigger's name and owner; null once the trigger is gone. */
  triggerName: string | null
  service: string | null
  stack: string | null
}

export interface LogLine {
  seq: number
  at: string
  stream: 'deckhand' | 'stdout' | 'stderr'
  line: string
}

export function isFinal(state: DeploymentState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'canceled'
}
