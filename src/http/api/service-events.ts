/**
 * GET /api/v1/services/{name}/events: a service's deployments and triggers as they change, as
 * Server-Sent Events, so the UI's tabs refresh when something happens instead of polling fast.
 * Only this instance's changes are heard: with several instances on one PostgreSQL database a
 * change made by another reaches the UI by its slower poll (docs/architecture.md).
 */
import type { FastifyInstance, FastifySchema } from 'fastify'

import { DeckhandError } from '../../errors.ts'
import type { Deployment } from '../../model/index.ts'
import { type ApiOptions, found, nameParams } from './api-context.ts'

/** Streams open at once on this server; one more is answered 503 and the UI polls instead. */
export const MAX_STREAMS = 64
/** Longest silence on a stream; halved when the socket's idle timeout is shorter. */
const HEARTBEAT_MS = 15_000
/** A stream ends after this long and the UI reconnects: its token is checked again then. */
const MAX_STREAM_MS = 10 * 60_000
/** Bytes a reader may leave unread before its stream is closed (events are tiny: ~100 B). */
const MAX_UNREAD_BYTES = 64 * 1024

const DESCRIPTION = [
  'Server-Sent Events while the service changes: `ready` once, then `deployment`',
  '(`{id, state}`: queued, held, started, finished) and `trigger` (`{id, revoked}`: created,',
  'rotated, revoked). A comment every 15 s keeps the stream open; it ends after 10 minutes, on',
  `shutdown, or when the reader falls behind; at most ${MAX_STREAMS} are open at once (503).`,
].join(' ')

export async function serviceEventRoutes(
  app: FastifyInstance,
  { store, events }: ApiOptions,
): Promise<void> {
  const open = new Set<() => void>()
  app.addHook('preClose', async () => {
    for (const end of open) {
      end()
    }
  })
  const schema: FastifySchema = {
    params: nameParams,
    summary: "Follow a service's deployments and triggers as Server-Sent Events",
    description: DESCRIPTION,
    answers: { 200: { description: 'a text/event-stream that stays open (see above)' } },
  }
  app.get<{ Params: { name: string } }>(
    '/services/:name/events',
    { schema },
    async (request, reply) => {
      const { name } = request.params
      found(await store.getService(name), `service ${name}`)
      if (open.size >= MAX_STREAMS) {
        void reply.header('retry-after', '30')
        throw new DeckhandError(
          'DH_ERR_TOO_MANY_STREAMS',
          `${MAX_STREAMS} event streams are open on this server; poll instead`,
        )
      }
      reply.hijack()
      const raw = reply.raw
      raw.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      })
      const write = (text: string): void => {
        raw.write(text)
        // A reader that stopped reading would make the server hold every event for it.
        if (raw.writableLength > MAX_UNREAD_BYTES) {
          end()
        }
      }
      const send = (event: string, data: unknown): void =>
        write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
      const idleMs = request.raw.socket.timeout || HEARTBEAT_MS * 2
      const heartbeat = setInterval(
        () => write(': keep-alive\n\n'),
        Math.min(HEARTBEAT_MS, idleMs / 2),
      )
      const lifetime = setTimeout(() => end(), MAX_STREAM_MS)
      const onDeployment = ({ deployment }: { deployment: Deployment }): void => {
        if (deployment.service === name) {
          send('deployment', { id: deployment.id, state: deployment.state })
        }
      }
      const offs = [
        events.on('deployment:queued', onDeployment),
        events.on('deployment:started', onDeployment),
        events.on('deployment:finished', onDeployment),
        events.on('trigger:changed', ({ trigger }) => {
          if (trigger.service === name) {
            send('trigger', { id: trigger.id, revoked: trigger.revokedAt !== null })
          }
        }),
      ]
      let ended = false
      function end(): void {
        if (ended) {
          return
        }
        ended = true
        open.delete(end)
        clearInterval(heartbeat)
        clearTimeout(lifetime)
        for (const off of offs) {
          off()
        }
        raw.end()
      }
      open.add(end)
      request.raw.on('close', end)
      send('ready', { service: name })
    },
  )
}
