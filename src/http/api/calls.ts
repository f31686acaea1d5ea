/** /api/v1/calls: the audit trail of every call to a trigger URL. */
import type { FastifyInstance } from 'fastify'
import { CALL_OUTCOMES, type CallOutcome, type PageRequest } from '../../model/index.ts'
import { pageQuerySchema, type ApiOptions } from './api-context.ts'

export async function callRoutes(app: FastifyInstance, { store }: ApiOptions): Promise<void> {
  app.get<{ Querystring: PageRequest & { trigger?: string; outcome?: CallOutcome } }>(
    '/calls',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { ...pageQuerySchema, trigger: { type: 'string', maxLength: 64 }, outcome: { type: 'string', enum: [...CALL_OUTCOMES] } },
        },
      },
    },
    async (request) => {
      const { trigger, outcome, ...page } = request.query
      return store.listCalls({ trigger, outcome }, page)
    },
  )
}
