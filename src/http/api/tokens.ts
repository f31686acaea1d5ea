/** /api/v1/tokens: admin tokens. The token itself is shown once, in the POST answer. */
import type { FastifyInstance } from 'fastify'

import { notFound } from '../../errors.ts'
import { newId } from '../../model/ids.ts'
import type { PageRequest } from '../../model/index.ts'
import { hashToken, makeToken } from '../../triggers/token.ts'
import { extend, pageOf } from '../answer-schemas.ts'
import { type ApiOptions, idParams, pageQuerySchema } from './api-context.ts'

/** An admin token as the API lists it (never the token), for the OpenAPI document. */
const adminTokenSchema = {
  $id: 'AdminToken',
  description: 'an admin token: its name and use, never the token itself',
  type: 'object',
  required: ['id', 'name', 'createdAt', 'lastUsedAt'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string', description: 'who acts: votes, freezes and starts are recorded by it' },
    createdAt: { type: 'string' },
    lastUsedAt: { type: ['string', 'null'] },
  },
} as const

const newTokenSchema = extend(adminTokenSchema, 'NewAdminToken', 'the token, shown this once', {
  token: { type: 'string', description: 'send as Authorization: Bearer <token>' },
})

export async function tokenRoutes(app: FastifyInstance, { store }: ApiOptions): Promise<void> {
  app.get<{ Querystring: PageRequest }>(
    '/tokens',
    {
      schema: {
        querystring: { type: 'object', properties: pageQuerySchema },
        answers: { 200: { description: 'admin tokens', schema: pageOf(adminTokenSchema) } },
      },
    },
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
        answers: { 201: { description: 'the new token', schema: newTokenSchema } },
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
    { schema: { params: idParams, answers: { 204: { description: 'the token is revoked' } } } },
    async (request, reply) => {
      if (!(await store.deleteAdminToken(request.params.id))) {
        throw notFound(`token ${request.params.id}`)
      }
      return reply.status(204).send()
    },
  )
}
