/** /api/v1/services: create, list, show (with what runs now), change and delete services. */
import type { FastifyInstance, FastifyReply } from 'fastify'

import { manualDeploymentSchema } from '../../admin/manual-deployment.ts'
import { acceptedAnswer } from '../../calls/accept-call.ts'
import type { AcceptResult } from '../../model/call-accept.ts'
import type { PageRequest } from '../../model/index.ts'
import { serviceSpecSchema, serviceView, serviceViewSchema } from '../../specs/service-spec.ts'
import { extend, pageOf } from '../answer-schemas.ts'
import { acceptedAnswers } from '../hooks/call-answer-schemas.ts'
import { type ApiOptions, found, nameParams, pageQuerySchema } from './api-context.ts'

const SHOW_DESCRIPTION = [
  'The service as stored, and `status`: what its driver sees running now.',
  '`status` has `replicas`, `ready` and `desired` (null when the driver cannot see the runtime),',
  '`image`, `healthy`, `detail`, `drift` (sentences), `error` (the runtime could not be asked),',
  'and `items`, one per instance: `id`, `state` (starting, running, restarting, crashed, stopped),',
  '`detail`, `restarts`, and where the driver knows them `pid` (process), `container`',
  "(docker, swarm: the short id), `port`, `health` (the runtime's own check) and `startedAt`.",
].join(' ')

const nullableInteger = { type: ['integer', 'null'] } as const

/** GET /services/{name}: the service and what its driver sees running (SHOW_DESCRIPTION). */
const serviceShowSchema = extend(
  serviceViewSchema,
  'ServiceWithStatus',
  'the service and what runs now',
  {
    status: {
      type: 'object',
      description: 'what the driver sees running; only `error` when the runtime could not be asked',
      properties: {
        replicas: nullableInteger,
        ready: nullableInteger,
        desired: nullableInteger,
        drift: { type: 'array', items: { type: 'string' } },
        image: { type: ['string', 'null'] },
        healthy: { type: ['boolean', 'null'] },
        detail: { type: 'string' },
        error: { type: 'string' },
        items: {
          type: 'array',
          items: {
            type: 'object',
            required: ['id', 'state'],
            properties: {
              id: { type: 'string' },
              state: {
                type: 'string',
                enum: ['starting', 'running', 'restarting', 'crashed', 'stopped'],
              },
              detail: { type: 'string' },
              restarts: { type: 'integer' },
              pid: { type: 'integer' },
              container: { type: 'string' },
              port: { type: 'string' },
              health: { type: 'string' },
              startedAt: { type: 'string' },
            },
          },
        },
      },
    },
  },
)

const serviceAnswer = { description: 'the service', schema: serviceViewSchema }

export async function serviceRoutes(
  app: FastifyInstance,
  { admin, store }: ApiOptions,
): Promise<void> {
  app.get<{ Querystring: PageRequest }>(
    '/services',
    {
      schema: {
        querystring: { type: 'object', properties: pageQuerySchema },
        answers: { 200: { description: 'services', schema: pageOf(serviceViewSchema) } },
      },
    },
    async (request) => {
      const page = await store.listServices(request.query)
      return { items: page.items.map(serviceView), next: page.next }
    },
  )

  const create = { body: serviceSpecSchema, answers: { 201: serviceAnswer } }
  app.post('/services', { schema: create }, async (request, reply) => {
    const service = await admin.createService(request.body)
    return reply.status(201).send(serviceView(service))
  })

  const showSchema = {
    params: nameParams,
    description: SHOW_DESCRIPTION,
    answers: { 200: { description: 'the service and its status', schema: serviceShowSchema } },
  }
  app.get<{ Params: { name: string } }>(
    '/services/:name',
    { schema: showSchema },
    async (request) => {
      const service = found(
        await store.getService(request.params.name),
        `service ${request.params.name}`,
      )
      return { ...serviceView(service), status: await admin.inspect(service) }
    },
  )

  app.patch<{ Params: { name: string } }>(
    '/services/:name',
    { schema: { params: nameParams, body: { type: 'object' }, answers: { 200: serviceAnswer } } },
    async (request) => serviceView(await admin.updateService(request.params.name, request.body)),
  )

  app.delete<{ Params: { name: string } }>(
    '/services/:name',
    {
      schema: {
        params: nameParams,
        answers: { 204: { description: 'the service is deleted' } },
      },
    },
    async (request, reply) => {
      await admin.deleteService(request.params.name)
      return reply.status(204).send()
    },
  )

  app.post<{ Params: { name: string } }>(
    '/services/:name/deployments',
    { schema: { params: nameParams, body: manualDeploymentSchema, answers: acceptedAnswers } },
    async (request, reply) =>
      answerAccepted(reply, await admin.requestDeployment(request.params.name, request.body ?? {})),
  )

  app.post<{ Params: { name: string } }>(
    '/services/:name/rollback',
    { schema: { params: nameParams, answers: acceptedAnswers } },
    async (request, reply) => answerAccepted(reply, await admin.rollback(request.params.name)),
  )
}

/** The same answer a trigger call gets: 202 with the deployments, or 200 ignored with the reason. */
function answerAccepted(reply: FastifyReply, result: AcceptResult): FastifyReply {
  const answer = acceptedAnswer(result)
  return reply.status(answer.status).send(answer.body)
}
