/** /api/v1/calls: the audit trail of every call to a trigger URL. */
import type { FastifyInstance } from 'fastify'

import { type Call, CALL_OUTCOMES, type CallOutcome, type PageRequest } from '../../model/index.ts'
import type { Store } from '../../store/store.ts'
import { pageOf } from '../answer-schemas.ts'
import { type ApiOptions, pageQuerySchema } from './api-context.ts'

const nullableString = { type: ['string', 'null'] } as const

/** A call as the API lists it (withTriggerNames below), for the OpenAPI document. */
const callViewSchema = {
  $id: 'CallView',
  description: 'one call to a trigger URL, as recorded',
  type: 'object',
  required: [
    ...['id', 'triggerId', 'sender', 'outcome', 'status', 'reason', 'deploymentIds'],
    ...['deliveryId', 'remoteAddress', 'receivedAt', 'triggerName', 'service', 'stack'],
  ],
  properties: {
    id: { type: 'string' },
    triggerId: nullableString,
    sender: nullableString,
    outcome: { type: 'string', enum: [...CALL_OUTCOMES] },
    status: { type: 'integer', description: 'the HTTP status it was answered' },
    reason: { ...nullableString, description: 'why it was ignored or refused' },
    deploymentIds: { type: 'array', items: { type: 'string' } },
    deliveryId: { ...nullableString, description: "the sender's delivery id, for redeliveries" },
    remoteAddress: nullableString,
    receivedAt: { type: 'string' },
    triggerName: { ...nullableString, description: 'null once the trigger is deleted' },
    service: nullableString,
    stack: nullableString,
  },
} as const

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
        answers: { 200: { description: 'calls, newest first', schema: pageOf(callViewSchema) } },
      },
    },
    async (request) => {
      const { trigger, outcome, ...page } = request.query
      const listed = await store.listCalls({ trigger, outcome }, page)
      return { items: await withTriggerNames(store, listed.items), next: listed.next }
    },
  )
}
