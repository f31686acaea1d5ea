/** /api/v1/drivers: the drivers this server runs (DECKHAND_DRIVERS), for clients to offer. */
import type { FastifyInstance, FastifySchema } from 'fastify'

import type { ApiOptions } from './api-context.ts'

export async function driverRoutes(app: FastifyInstance, { admin }: ApiOptions): Promise<void> {
  app.get(
    '/drivers',
    {
      // FastifySchema has no words for these, but the OpenAPI document shows them.
      schema: {
        summary: 'The drivers this server runs',
        description: 'Set by DECKHAND_DRIVERS; a service on any other driver is refused.',
      } as FastifySchema,
    },
    async () => ({ items: admin.enabledDrivers() }),
  )
}
