/** /api/v1/deployments: history, one deployment, its log (live as Server-Sent Events) and cancel. */
import type { FastifyInstance } from 'fastify'

import {
  type Deployment,
  DEPLOYMENT_ACTIONS,
  DEPLOYMENT_STATES,
  type DeploymentState,
  FINAL_STATES,
  isPending,
  type PageRequest,
} from '../../model/index.ts'
import type { Store } from '../../store/store.ts'
import { extend, pageOf } from '../answer-schemas.ts'
import { type ApiOptions, found, idParams, pageQuerySchema } from './api-context.ts'
import { approvalsSchema, approvalsView } from './approvals-view.ts'

const LOG_PAGE = 1000
const FOLLOW_POLL_MS = 500
/** Longest silence on a followed log; halved when the socket's idle timeout is shorter. */
const HEARTBEAT_MS = 15_000

const nullableString = { type: ['string', 'null'] } as const

/** A deployment as the API answers it (deploymentView), for the OpenAPI document. */
export const deploymentViewSchema = {
  $id: 'DeploymentView',
  description: 'a deployment',
  type: 'object',
  required: [
    ...['id', 'service', 'action', 'state', 'params', 'calls', 'triggerId', 'createdAt'],
    ...['startedAt', 'finishedAt', 'error', 'image', 'digest', 'tried', 'hold'],
  ],
  properties: {
    id: { type: 'string' },
    service: { type: 'string' },
    action: { type: 'string', enum: [...DEPLOYMENT_ACTIONS] },
    state: { type: 'string', enum: [...DEPLOYMENT_STATES] },
    params: {
      type: 'object',
      description: 'what the calls asked for',
      properties: {
        tag: { type: 'string' },
        by: { type: 'integer', description: 'net scale step, signed' },
        replicas: { type: 'integer', description: 'absolute replica count' },
        digest: { type: 'string', description: 'the manifest digest pinned (rollbacks)' },
      },
    },
    calls: { type: 'integer', description: 'calls that queued it or joined it' },
    triggerId: { ...nullableString, description: 'null when an admin or a watch asked' },
    createdAt: { type: 'string' },
    startedAt: nullableString,
    finishedAt: nullableString,
    error: nullableString,
    image: {
      ...nullableString,
      description: 'the image reference a succeeded redeploy or rollback ran',
    },
    digest: nullableString,
    tried: {
      description:
        'what a failed or canceled redeploy or rollback tried that differs from what runs (the service row was put back); null otherwise',
      type: ['object', 'null'],
      additionalProperties: false,
      properties: {
        target: {
          type: 'object',
          additionalProperties: true,
          description: "the service's target as the row showed it",
        },
        image: {
          type: ['string', 'null'],
          description: "the service's image as the row showed it",
        },
        tag: { type: 'string', description: 'the image tag the deployment asked for' },
      },
    },
    hold: {
      description:
        'while held: why (a freeze and its message, or the change windows) and until when ' +
        '(null while a freeze has no end); null otherwise',
      type: ['object', 'null'],
      required: ['until', 'reason'],
      properties: { until: nullableString, reason: { type: 'string' } },
    },
  },
} as const

/** What an approve or reject answers: the deployment and its votes. */
export const votedDeploymentSchema = extend(
  deploymentViewSchema,
  'VotedDeployment',
  'the deployment with its approvals',
  { approvals: approvalsSchema },
)

/** The answer of GET /deployments/{id}: the deployment, its votes and why it exists. */
const deploymentDetailSchema = extend(
  votedDeploymentSchema,
  'DeploymentDetail',
  'the deployment, its approvals and why it exists',
  {
    cause: {
      type: 'object',
      description:
        "why it exists: its trigger's name and owner, the commit the call named, and the call " +
        'that queued it; null fields when it was manual or the call has been pruned',
      required: [
        ...['trigger', 'service', 'stack', 'sender', 'remoteAddress', 'receivedAt', 'callId'],
        ...['commit', 'branch', 'repository'],
      ],
      properties: {
        trigger: nullableString,
        service: nullableString,
        stack: nullableString,
        sender: nullableString,
        remoteAddress: nullableString,
        receivedAt: nullableString,
        callId: nullableString,
        commit: nullableString,
        branch: nullableString,
        repository: nullableString,
      },
    },
  },
)

const logLineSchema = {
  $id: 'LogLine',
  type: 'object',
  required: ['seq', 'at', 'stream', 'line'],
  properties: {
    seq: { type: 'integer', description: 'pass the last one as ?after= to read on' },
    at: { type: 'string' },
    stream: { type: 'string', enum: ['deckhand', 'stdout', 'stderr'] },
    line: { type: 'string' },
  },
} as const

/** A deployment as the API answers it; the web UI reads this type (web/src/types.ts). */
export type DeploymentView = ReturnType<typeof deploymentView>
/** What GET /deployments/{id} adds: why the deployment exists. */
export type DeploymentCause = Awaited<ReturnType<typeof deploymentCause>>

export function deploymentView(d: Deployment) {
  return {
    id: d.id,
    service: d.service,
    action: d.action,
    state: d.state,
    params: d.params,
    calls: d.calls,
    triggerId: d.triggerId,
    createdAt: d.createdAt,
    startedAt: d.startedAt,
    finishedAt: d.finishedAt,
    error: d.error,
    image: d.image,
    digest: d.digest,
    // Redacted when it was recorded (queue/tried-change.ts), as the error is.
    tried: d.tried ?? null,
    hold: d.hold ?? null,
  }
}

/** How many of a trigger's latest calls are searched for the one that queued a deployment. */
const CAUSE_CALLS = 200

/**
 * Why a deployment exists: its trigger's name and owner, the commit the call named, and the
 * first call that queued it (sender, caller address, time), found among the trigger's latest
 * calls; null fields when it was manual or the call has been pruned.
 */
async function deploymentCause(store: Store, d: Deployment) {
  const trigger = d.triggerId === null ? undefined : await store.getTrigger(d.triggerId)
  const calls =
    d.triggerId === null
      ? []
      : (await store.listCalls({ trigger: d.triggerId }, { limit: CAUSE_CALLS })).items
  // Newest first: the last match is the call that queued it, later ones were coalesced into it.
  const call = calls.filter((c) => c.deploymentIds.includes(d.id)).at(-1)
  return {
    trigger: trigger?.name ?? d.input.triggerName,
    service: trigger?.service ?? null,
    stack: trigger?.stack ?? null,
    sender: call?.sender ?? null,
    remoteAddress: call?.remoteAddress ?? null,
    receivedAt: call?.receivedAt ?? null,
    callId: call?.id ?? null,
    commit: d.input.gitCommit,
    branch: d.input.gitBranch,
    repository: d.input.gitRepository ?? null,
  }
}

export async function deploymentRoutes(
  app: FastifyInstance,
  { store, events, worker }: ApiOptions,
): Promise<void> {
  app.get<{ Querystring: PageRequest & { service?: string; state?: DeploymentState } }>(
    '/deployments',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            ...pageQuerySchema,
            service: { type: 'string', maxLength: 128 },
            state: { type: 'string', enum: [...DEPLOYMENT_STATES] },
          },
        },
        answers: {
          200: { description: 'deployments, newest first', schema: pageOf(deploymentViewSchema) },
        },
      },
    },
    async (request) => {
      const { service, state, ...page } = request.query
      const result = await store.listDeployments({ service, state }, page)
      return { items: result.items.map(deploymentView), next: result.next }
    },
  )

  app.get<{ Params: { id: string } }>(
    '/deployments/:id',
    {
      schema: {
        params: idParams,
        answers: { 200: { description: 'the deployment', schema: deploymentDetailSchema } },
      },
    },
    async (request) => {
      const id = request.params.id
      const deployment = found(await store.getDeployment(id), `deployment ${id}`)
      const service = await store.getService(deployment.service)
      return {
        ...deploymentView(deployment),
        approvals: await approvalsView(store, deployment, service),
        cause: await deploymentCause(store, deployment),
      }
    },
  )

  app.post<{ Params: { id: string } }>(
    '/deployments/:id/cancel',
    {
      schema: {
        params: idParams,
        summary: 'Cancel a deployment',
        description:
          'A pending one (awaiting-approval, held, queued) is canceled at once; a running one is ' +
          'asked to stop and answers running until its driver has. A finished one is answered ' +
          'as it is.',
        answers: { 200: { description: 'the deployment', schema: deploymentViewSchema } },
      },
    },
    async (request) => {
      const before = found(
        await store.getDeployment(request.params.id),
        `deployment ${request.params.id}`,
      )
      const deployment = found(await store.cancelDeployment(before.id), `deployment ${before.id}`)
      if (deployment.state === 'running') {
        worker?.cancel(deployment.id)
      } else if (isPending(before.state) && deployment.state === 'canceled') {
        // A deployment that never started ends here, not in a worker: listeners (metrics,
        // notifiers) hear it from us.
        events.emit('deployment:finished', {
          deployment,
          service: await store.getService(deployment.service),
        })
      }
      return deploymentView(deployment)
    },
  )

  app.get<{ Params: { id: string }; Querystring: { follow?: string; after?: number } }>(
    '/deployments/:id/log',
    {
      schema: {
        params: idParams,
        querystring: {
          type: 'object',
          properties: {
            follow: { type: 'string' },
            after: { type: 'integer', minimum: 0, default: 0 },
          },
        },
        description:
          'Up to 10000 lines after ?after=. With ?follow=1 the answer is text/event-stream ' +
          'instead: `log` events, one line each, and an `end` event with the deployment once ' +
          'it has finished.',
        answers: { 200: { description: 'log lines, oldest first', schema: pageOf(logLineSchema) } },
      },
    },
    async (request, reply) => {
      const id = request.params.id
      found(await store.getDeployment(id), `deployment ${id}`)
      const after = request.query.after ?? 0
      if (request.query.follow !== '1' && request.query.follow !== 'true') {
        return { items: await store.readLog(id, after, 10_000), next: null }
      }
      reply.hijack()
      const raw = reply.raw
      raw.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      })
      // A log can stay silent longer than the socket's idle timeout (and a proxy's): an SSE
      // comment well within it keeps the stream open. Without it, following a quiet deployment
      // ended in a reset after connectionTimeout.
      const idleMs = request.raw.socket.timeout || HEARTBEAT_MS * 2
      const heartbeatMs = Math.min(HEARTBEAT_MS, idleMs / 2)
      let lastWriteMs = Date.now()
      let closed = false
      // A wake-up that comes while the store is being read is kept, not lost: the next wait
      // is skipped instead of sleeping through lines that already landed.
      let woken = false
      let wake: () => void = () => (woken = true)
      request.raw.on('close', () => {
        closed = true
        wake()
      })
      const offLog = events.on('deployment:log', (e) => {
        if (e.deploymentId === id) {
          wake()
        }
      })
      // Lines written, or the end recorded, by another instance sharing the store (PostgreSQL NOTIFY).
      const offRemote = events.on('deployment:remote-change', (e) => {
        if (e.deploymentId === id) {
          wake()
        }
      })
      const offEnd = events.on('deployment:finished', (e) => {
        if (e.deployment.id === id) {
          wake()
        }
      })
      try {
        let seq = after
        while (!closed) {
          woken = false
          const deployment = await store.getDeployment(id)
          const lines = await store.readLog(id, seq, LOG_PAGE)
          for (const line of lines) {
            raw.write(`id: ${line.seq}\nevent: log\ndata: ${JSON.stringify(line)}\n\n`)
            seq = line.seq
            lastWriteMs = Date.now()
          }
          if (lines.length === LOG_PAGE) {
            continue
          }
          if (deployment && FINAL_STATES.includes(deployment.state)) {
            raw.write(`event: end\ndata: ${JSON.stringify(deploymentView(deployment))}\n\n`)
            break
          }
          if (Date.now() - lastWriteMs >= heartbeatMs) {
            raw.write(': keep-alive\n\n')
            lastWriteMs = Date.now()
          }
          if (!woken) {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, Math.min(FOLLOW_POLL_MS, heartbeatMs))
              wake = () => {
                clearTimeout(timer)
                resolve()
              }
            })
          }
          wake = () => (woken = true)
        }
      } finally {
        offLog()
        offRemote()
        offEnd()
        raw.end()
      }
    },
  )
}
