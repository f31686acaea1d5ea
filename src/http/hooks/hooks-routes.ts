/**
 * POST /hooks/{token} and GET /hooks/{token}/deployments/{id}: their own context, with a
 * catch-all body parser (raw bytes for signatures), their own body limit, and no admin auth.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'

import { type CallAcceptor, type CallAnswer, NOT_FOUND } from '../../calls/accept-call.ts'
import type { EventBus } from '../../events.ts'
import type { CatalogueStore, QueueStore } from '../../store/store.ts'
import { hashToken, TOKEN_PATTERN } from '../../triggers/token.ts'
import { pick } from '../answer-schemas.ts'
import { deploymentViewSchema } from '../api/deployments.ts'
import { hookCallAnswers } from './call-answer-schemas.ts'
import { answerHookCall } from './hook-call.ts'
import type { IntakeLimit } from './intake-limit.ts'

export interface HooksOptions {
  store: CatalogueStore & QueueStore
  events: EventBus
  acceptor: CallAcceptor
  intake: IntakeLimit
  maxBodyBytes: number
}

/** What a trigger's URL may read of a deployment it made: no image, no log, no cause. */
const hookDeploymentSchema = pick(
  deploymentViewSchema,
  'HookDeployment',
  "a deployment of one of the trigger's services",
  [
    ...['id', 'service', 'action', 'state', 'params', 'calls', 'createdAt', 'startedAt'],
    ...['finishedAt', 'error'],
  ],
)

export async function hooksRoutes(app: FastifyInstance, options: HooksOptions): Promise<void> {
  const { store } = options
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: options.maxBodyBytes },
    (_request, body, done) => {
      done(null, body)
    },
  )

  app.post<{ Params: { token: string }; Querystring: Record<string, string> }>(
    '/hooks/:token',
    {
      bodyLimit: options.maxBodyBytes,
      schema: {
        summary: 'Call a trigger',
        description:
          'The trigger URL senders call: checked (signature, allowed addresses, conditions), ' +
          'recorded, and turned into deployments. ?wait=<duration> holds the answer until ' +
          'they finish, up to that long.',
        answers: hookCallAnswers,
      },
    },
    async (request, reply) => {
      const call = {
        token: request.params.token,
        address: request.ip,
        headers: request.headers as Record<string, string | undefined>,
        body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
        query: flatQuery(request.query),
      }
      return send(reply, await answerHookCall(call, request.raw.socket, options))
    },
  )

  app.get<{ Params: { token: string; id: string } }>(
    '/hooks/:token/deployments/:id',
    {
      schema: {
        summary: "A deployment of the trigger's service (or one of its stack's)",
        answers: { 200: { description: 'the deployment', schema: hookDeploymentSchema } },
      },
    },
    async (request, reply) => {
      const { token, id } = request.params
      const trigger = TOKEN_PATTERN.test(token)
        ? await store.findTriggerByTokenHash(hashToken(token))
        : undefined
      const deployment = trigger ? await store.getDeployment(id) : undefined
      const members =
        trigger?.service !== null && trigger?.service !== undefined
          ? [trigger.service]
          : ((await store.getStack(trigger?.stack ?? ''))?.services ?? [])
      if (!deployment || !members.includes(deployment.service)) {
        return send(reply, NOT_FOUND)
      }
      const {
        id: deploymentId,
        service,
        action,
        state,
        params,
        calls,
        createdAt,
        startedAt,
        finishedAt,
        error,
      } = deployment
      return {
        id: deploymentId,
        service,
        action,
        state,
        params,
        calls,
        createdAt,
        startedAt,
        finishedAt,
        error,
      }
    },
  )

  app.route({
    method: ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    url: '/hooks/:token',
    exposeHeadRoute: false,
    schema: {
      summary: 'Refused: a trigger URL takes POST only',
      answers: { 405: { description: 'use POST; the Allow header says so' } },
    },
    handler: async (_request, reply) => reply.status(405).header('allow', 'POST').send(),
  })
}

function send(reply: FastifyReply, answer: CallAnswer): FastifyReply {
  if (answer.headers) {
    void reply.headers(answer.headers)
  }
  return reply.status(answer.status).send(answer.body)
}

/** Repeated query keys keep their last value; senders never need lists here. */
function flatQuery(query: Record<string, unknown>): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {}
  for (const key in query) {
    const value = query[key]
    flat[key] = Array.isArray(value) ? String(value.at(-1)) : String(value)
  }
  return flat
}
