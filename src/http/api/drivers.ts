/** /api/v1/drivers: the drivers this server runs (DECKHAND_DRIVERS), for clients to offer. */
import type { FastifyInstance } from 'fastify'

import type { ApiOptions } from './api-context.ts'

/** The answer (admin.enabledDrivers), for the OpenAPI document. */
const driversSchema = {
  $id: 'Drivers',
  type: 'object',
  required: ['items'],
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'capabilities'],
        properties: {
          name: { type: 'string' },
          capabilities: {
            type: 'object',
            required: ['canScale', 'canChangeTag', 'canRollBack', 'waitsForHealth'],
            properties: {
              canScale: { type: 'boolean' },
              canChangeTag: { type: 'boolean', description: 'a call may name an image tag' },
              canRollBack: { type: 'boolean', description: 'the runtime restores old instances' },
              waitsForHealth: { type: 'boolean' },
            },
          },
        },
      },
    },
  },
} as const

export async function driverRoutes(app: FastifyInstance, { admin }: ApiOptions): Promise<void> {
  app.get(
    '/drivers',
    {
      schema: {
        summary: 'The drivers this server runs',
        description: 'Set by DECKHAND_DRIVERS; a service on any other driver is refused.',
        answers: { 200: { description: 'the drivers', schema: driversSchema } },
      },
    },
    async () => ({ items: admin.enabledDrivers() }),
  )
}
