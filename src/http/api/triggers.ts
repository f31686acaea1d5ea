/** Triggers of services and stacks: the POST answer and rotate are the only times a URL is shown. */
import type { FastifyInstance } from 'fastify'

import type { TriggerOwner } from '../../admin/admin.ts'
import type { PageRequest } from '../../model/index.ts'
import { triggerSpecSchema, triggerView, triggerViewSchema } from '../../specs/trigger-spec.ts'
import { extend, pageOf } from '../answer-schemas.ts'
import { type ApiOptions, found, idParams, nameParams, pageQuerySchema } from './api-context.ts'

/** What creating or rotating a trigger answers: the only times its URL is shown. */
const triggerWithUrlSchema = extend(
  triggerViewSchema,
  'TriggerWithUrl',
  'the trigger and its URL, shown this once',
  { url: { type: 'string', description: 'the secret trigger URL: $DECKHAND_PUBLIC_URL/hooks/…' } },
)

const listQuerySchema = {
  ...pageQuerySchema,
  includeRevoked: {
    type: 'boolean',
    default: false,
    description: 'list revoked triggers too (their revokedAt is set)',
  },
} as const

export async function triggerRoutes(
  app: FastifyInstance,
  { admin, store, events }: ApiOptions,
): Promise<void> {
  for (const kind of ['services', 'stacks'] as const) {
    const owner = (name: string): TriggerOwner =>
      kind === 'services' ? { service: name } : { stack: name }
    app.get<{ Params: { name: string }; Querystring: PageRequest & { includeRevoked?: boolean } }>(
      `/${kind}/:name/triggers`,
      {
        schema: {
          params: nameParams,
          querystring: { type: 'object', properties: listQuerySchema },
          answers: { 200: { description: 'triggers', schema: pageOf(triggerViewSchema) } },
        },
      },
      async (request) => {
        const { name } = request.params
        found(
          kind === 'services' ? await store.getService(name) : await store.getStack(name),
          `${kind.slice(0, -1)} ${name}`,
        )
        const { includeRevoked, ...page } = request.query
        const listed = await store.listTriggers(owner(name), page, {
          includeRevoked: includeRevoked === true,
        })
        return { items: listed.items.map(triggerView), next: listed.next }
      },
    )
    app.post<{ Params: { name: string } }>(
      `/${kind}/:name/triggers`,
      {
        schema: {
          params: nameParams,
          body: triggerSpecSchema,
          answers: { 201: { description: 'the new trigger', schema: triggerWithUrlSchema } },
        },
      },
      async (request, reply) => {
        const { trigger, url } = await admin.createTrigger(owner(request.params.name), request.body)
        events.emit('trigger:changed', { trigger })
        return reply.status(201).send({ ...triggerView(trigger), url })
      },
    )
  }

  app.get<{ Params: { id: string } }>(
    '/triggers/:id',
    {
      schema: {
        params: idParams,
        answers: { 200: { description: 'the trigger', schema: triggerViewSchema } },
      },
    },
    async (request) =>
      triggerView(found(await store.getTrigger(request.params.id), `trigger ${request.params.id}`)),
  )
  app.delete<{ Params: { id: string } }>(
    '/triggers/:id',
    {
      schema: {
        params: idParams,
        answers: { 204: { description: 'revoked: its URL is refused from now on' } },
      },
    },
    async (request, reply) => {
      await admin.revokeTrigger(request.params.id)
      const revoked = await store.getTrigger(request.params.id)
      if (revoked) {
        events.emit('trigger:changed', { trigger: revoked })
      }
      return reply.status(204).send()
    },
  )
  app.post<{ Params: { id: string } }>(
    '/triggers/:id/rotate',
    {
      schema: {
        params: idParams,
        answers: {
          200: { description: 'the trigger and its new URL', schema: triggerWithUrlSchema },
        },
      },
    },
    async (request) => {
      const { trigger, url } = await admin.rotateTrigger(request.params.id)
      events.emit('trigger:changed', { trigger })
      return { ...triggerView(trigger), url }
    },
  )
}
