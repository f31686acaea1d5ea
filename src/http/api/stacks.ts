/** /api/v1/stacks: named groups of services. */
import type { FastifyInstance } from 'fastify'

import type { PageRequest } from '../../model/index.ts'
import { stackSpecSchema } from '../../specs/stack-spec.ts'
import { type ApiOptions, found, nameParams, pageQuerySchema } from './api-context.ts'

export async function stackRoutes(
  app: FastifyInstance,
  { admin, store }: ApiOptions,
): Promise<void> {
  app.get<{ Querystring: PageRequest }>(
    '/stacks',
    { schema: { querystring: { type: 'object', properties: pageQuerySchema } } },
    async (request) => store.listStacks(request.query),
  )
  app.post('/stacks', { schema: { body: stackSpecSchema } }, async (request, reply) =>
    reply.status(201).send(await admin.createStack(request.body)),
  )
  app.get<{ Params: { name: string } }>(
    '/stacks/:name',
    { schema: { params: nameParams } },
    async (request) =>
      found(await store.getStack(request.params.name), `stack ${request.params.name}`),
  )
  app.patch<{ Params: { name: string } }>(
    '/stacks/:name',
    { schema: { params: nameParams, body: { type: 'object' } } },
    async (request) => admin.updateStack(request.params.name, request.body),
  )
  app.delete<{ Params: { name: string } }>(
    '/stacks/:name',
    { schema: { params: nameParams } },
    async (request, reply) => {
      await admin.deleteStack(request.params.name)
      return reply.status(204).send()
    },
  )
}
