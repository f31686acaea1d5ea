/** /api/v1/services: create, list, show (with what runs now), change and delete services. */
import type { FastifyInstance, FastifyReply, FastifySchema } from 'fastify'

import { manualDeploymentSchema } from '../../admin/manual-deployment.ts'
import { acceptedAnswer } from '../../calls/accept-call.ts'
import type { AcceptResult } from '../../model/call-accept.ts'
import type { PageRequest } from '../../model/index.ts'
import { serviceSpecSchema, serviceView } from '../../specs/service-spec.ts'
import { type ApiOptions, found, nameParams, pageQuerySchema } from './api-context.ts'

const SHOW_DESCRIPTION = [
  'The service as stored, and `status`: what its driver sees running now.',
  '`status` has `replicas`, `ready` and `desired` (null when the driver cannot see the runtime),',
  '`image`, `healthy`, `detail`, `drift` (sentences), `error` (the runtime could not be asked),',
  'and `items`, one per instance: `id`, `state` (starting, running, restarting, crashed, stopped),',
  '`detail`, `restarts`, and where the driver knows them `pid` (process), `container`',
  "(docker, swarm: the short id), `port`, `health` (the runtime's own check) and `startedAt`.",
].join(' ')

export async function serviceRoutes(
  app: FastifyInstance,
  { admin, store }: ApiOptions,
): Promise<void> {
  app.get<{ Querystring: PageRequest }>(
    '/services',
    { schema: { querystring: { type: 'object', properties: pageQuerySchema } } },
    async (request) => {
      const page = await store.listServices(request.query)
      return { items: page.items.map(serviceView), next: page.next }
    },
  )

  app.post('/services', { schema: { body: serviceSpecSchema } }, async (request, reply) => {
    const service = await admin.createService(request.body)
    return reply.status(201).send(serviceView(service))
  })

  // FastifySchema has no `description`, but the OpenAPI document shows it.
  const showSchema = { params: nameParams, description: SHOW_DESCRIPTION } as FastifySchema
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
    { schema: { params: nameParams, body: { type: 'object' } } },
    async (request) => serviceView(await admin.updateService(request.params.name, request.body)),
  )

  app.delete<{ Params: { name: string } }>(
    '/services/:name',
    { schema: { params: nameParams } },
    async (request, reply) => {
      await admin.deleteService(request.params.name)
      return reply.status(204).send()
    },
  )

  app.post<{ Params: { name: string } }>(
    '/services/:name/deployments',
    { schema: { params: nameParams, body: manualDeploymentSchema } },
    async (request, reply) =>
      answerAccepted(reply, await admin.requestDeployment(request.params.name, request.body ?? {})),
  )

  app.post<{ Params: { name: string } }>(
    '/services/:name/rollback',
    { schema: { params: nameParams } },
    async (request, reply) => answerAccepted(reply, await admin.rollback(request.params.name)),
  )
}

/** The same answer a trigger call gets: 202 with the deployments, or 200 ignored with the reason. */
function answerAccepted(reply: FastifyReply, result: AcceptResult): FastifyReply {
  const answer = acceptedAnswer(result)
  return reply.status(answer.status).send(answer.body)
}
