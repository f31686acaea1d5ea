/** GET /api/v1/services/{name}/watch: a service's registry watch, its last check, the next. */
import type { FastifyInstance } from 'fastify'

import { WATCH_OUTCOMES } from '../../model/watch-check.ts'
import { watchView } from '../../specs/watch-spec.ts'
import { type ApiOptions, found, nameParams } from './api-context.ts'

const nullableString = { type: ['string', 'null'] } as const

export const serviceWatchSchema = {
  $id: 'ServiceWatch',
  type: 'object',
  required: ['service', 'watch', 'lastCheck', 'nextAt'],
  properties: {
    service: { type: 'string' },
    watch: {
      type: ['object', 'null'],
      required: ['interval', 'tags'],
      properties: { interval: { type: 'string' }, tags: { type: 'string' } },
    },
    lastCheck: {
      type: ['object', 'null'],
      required: ['checkedAt', 'outcome', 'answer', 'tag', 'digest'],
      properties: {
        checkedAt: { type: 'string' },
        outcome: { type: 'string', enum: [...WATCH_OUTCOMES] },
        answer: { type: 'string' },
        tag: nullableString,
        digest: nullableString,
      },
    },
    nextAt: { ...nullableString, description: 'when the next check is due; null when unwatched' },
  },
} as const

const DESCRIPTION = [
  "The service's `watch` block, the last check (`outcome`: unchanged, changed — a call with",
  'sender `watch` was made —, refused or failed; `answer` says what was found) and when the',
  'next check is due. Read only: no body and no 409; 404 when there is no such service.',
].join(' ')

export async function serviceWatchRoutes(
  app: FastifyInstance,
  { store }: ApiOptions,
): Promise<void> {
  const schema = {
    params: nameParams,
    summary: "A service's registry watch and its last check",
    description: DESCRIPTION,
    answers: { 200: { description: 'the watch', schema: serviceWatchSchema } },
  }
  app.get<{ Params: { name: string } }>('/services/:name/watch', { schema }, async (request) => {
    const { name } = request.params
    const service = found(await store.getService(name), `service ${name}`)
    const check = await store.getWatchCheck(name)
    return {
      service: name,
      watch: service.watch ? watchView(service.watch) : null,
      lastCheck: check
        ? {
            checkedAt: check.checkedAt,
            outcome: check.outcome,
            answer: check.answer,
            tag: check.tag,
            digest: check.digest,
          }
        : null,
      nextAt: service.watch ? (check?.nextAt ?? null) : null,
    }
  })
}
