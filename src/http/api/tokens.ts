/** /api/v1/tokens: admin tokens. The token itself is shown once, in the POST answer. */
import type { FastifyInstance } from 'fastify'

import { notFound } from '../../errors.ts'
import { newId } from '../../model/ids.ts'
import type { PageRequest } from '../../model/index.ts'
import { hashToken, makeToken } from '../../triggers/token.ts'
import { type ApiOptions, idParams, pageQuerySchema } from './api-context.ts'

export async function tokenRoutes(app: FastifyInstance, { store }: ApiOptions): Promise<void> {
  app.get<{ Querystring: PageRequest }>(
    '/tokens',
    { schema: { querystring: { type: 'object', properties: pageQuerySchema } } },
    async (request) => store.listAdminTokens(request.query),
  )
  app.post<{ Body: { name?: string } }>(
    '/tokens',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 64 } },
        },
      },
    },
    async (request, reply) => {
      const token = makeToken()
      const created = await store.createAdminToken({
        id: newId('tok'),
        name: request.body?.name ?? 'admin',
        tokenHash: hashToken(token),
      })
      return reply.status(201).send({ ...created, token })
    },
  )
  app.delete<{ Params: { id: string } }>(
    '/tokens/:id',
    { schema: { params: idParams } },
    async (request, reply) => {
      if (!(await store.deleteAdminToken(request.params.id))) {
        throw notFound(`token ${request.params.id}`)
      }
      return reply.status(204).send()
    },
  )
}
