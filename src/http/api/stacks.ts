/** /api/v1/stacks: named groups of services. */
import type { FastifyInstance } from 'fastify'

import type { PageRequest } from '../../model/index.ts'
import { stackSpecSchema, stackViewSchema } from '../../specs/stack-spec.ts'
import { pageOf } from '../answer-schemas.ts'
import { type ApiOptions, found, nameParams, pageQuerySchema } from './api-context.ts'

const stackAnswer = { description: 'the stack', schema: stackViewSchema }

export async function stackRoutes(
  app: FastifyInstance,
  { admin, store }: ApiOptions,
): Promise<void> {
  app.get<{ Querystring: PageRequest }>(
    '/stacks',
    {
      schema: {
        querystring: { type: 'object', properties: pageQuerySchema },
        answers: { 200: { description: 'stacks', schema: pageOf(stackViewSchema) } },
      },
    },
    async (request) => store.listStacks(request.query),
  )
  const create = { body: stackSpecSchema, answers: { 201: stackAnswer } }
  app.post('/stacks', { schema: create }, async (request, reply) =>
    reply.status(201).send(await admin.createStack(request.body)),
  )
  app.get<{ Params: { name: string } }>(
    '/stacks/:name',
    { schema: { params: nameParams, answers: { 200: stackAnswer } } },
    async (request) =>
      found(await store.getStack(request.params.name), `stack ${request.params.name}`),
  )
  app.patch<{ Params: { name: string } }>(
    '/stacks/:name',
    { schema: { params: nameParams, body: { type: 'object' }, answers: { 200: stackAnswer } } },
    async (request) => admin.updateStack(request.params.name, request.body),
  )
  app.delete<{ Params: { name: string } }>(
    '/stacks/:name',
    {
      schema: {
        params: nameParams,
        answers: { 204: { description: 'the stack is deleted' } },
      },
    },
    async (request, reply) => {
      await admin.deleteStack(request.params.name)
      return reply.status(204).send()
    },
  )
}
