/** /api/v1/calls: the audit trail of every call to a trigger URL. */
import type { FastifyInstance } from 'fastify'

import { type Call, CALL_OUTCOMES, type CallOutcome, type PageRequest } from '../../model/index.ts'
import type { Store } from '../../store/store.ts'
import { type ApiOptions, pageQuerySchema } from './api-context.ts'

/** A call as the API lists it; the web UI reads this type (web/src/types.ts). */
export type CallView = Awaited<ReturnType<typeof withTriggerNames>>[number]

/**
 * Each call with its trigger's name and owner, so a reader needs no second lookup; one read per
 * distinct trigger on the page (at most the page size). A trigger deleted with its service
 * leaves the names null.
 */
async function withTriggerNames(store: Store, calls: Call[]) {
  const ids = [...new Set(calls.map((call) => call.triggerId).filter((id) => id !== null))]
  const read = ids.map(async (id) => [id, await store.getTrigger(id)] as const)
  const triggers = new Map(await Promise.all(read))
  return calls.map((call) => {
    const trigger = call.triggerId === null ? undefined : triggers.get(call.triggerId)
    return {
      ...call,
      triggerName: trigger?.name ?? null,
      service: trigger?.service ?? null,
      stack: trigger?.stack ?? null,
    }
  })
}

export async function callRoutes(app: FastifyInstance, { store }: ApiOptions): Promise<void> {
  app.get<{ Querystring: PageRequest & { trigger?: string; outcome?: CallOutcome } }>(
    '/calls',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            ...pageQuerySchema,
            trigger: { type: 'string', maxLength: 64 },
            outcome: { type: 'string', enum: [...CALL_OUTCOMES] },
          },
        },
      },
    },
    async (request) => {
      const { trigger, outcome, ...page } = request.query
      const listed = await store.listCalls({ trigger, outcome }, page)
      return { items: await withTriggerNames(store, listed.items), next: listed.next }
    },
  )
}
