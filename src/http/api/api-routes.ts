/** /api/v1: the admin API. The bearer-token hook lives in this context only. */
import type { FastifyInstance, FastifyReply } from 'fastify'

import { DeckhandError } from '../../errors.ts'
import type { AdminToken } from '../../model/index.ts'
import { AddressGuard } from '../../triggers/address-guard.ts'
import { hashToken } from '../../triggers/token.ts'
import { type ApiOptions, setAdminToken } from './api-context.ts'
import { approvalRoutes } from './approvals.ts'
import { callRoutes } from './calls.ts'
import { deploymentRoutes } from './deployments.ts'
import { driverRoutes } from './drivers.ts'
import { holdRoutes } from './holds.ts'
import { serviceEventRoutes } from './service-events.ts'
import { serviceWatchRoutes } from './service-watch.ts'
import { serviceRoutes } from './services.ts'
import { stackRoutes } from './stacks.ts'
import { tokenRoutes } from './tokens.ts'
import { triggerRoutes } from './triggers.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** The admin token the request carried, once the bearer hook accepted it: who acts. */
    adminToken: AdminToken | null
  }
}

export async function apiRoutes(
  app: FastifyInstance,
  options: ApiOptions & { guard?: AddressGuard },
): Promise<void> {
  // Unlike trigger calls, an address over its allowance of bad admin tokens is refused even
  // with a good one until its window ends: otherwise the guard would slow no guessing at all.
  const guard = options.guard ?? new AddressGuard()
  const refuse = (reply: FastifyReply, retryAfter: number): DeckhandError => {
    void reply.header('retry-after', String(retryAfter))
    return new DeckhandError(
      'DH_ERR_AUTH_RATE_LIMITED',
      `too many bad admin tokens from this address; retry in ${retryAfter} s`,
    )
  }
  app.decorateRequest('adminToken', null)
  app.addHook('onRequest', async (request, reply) => {
    const blocked = guard.blocked(request.ip)
    if (blocked !== undefined) {
      throw refuse(reply, blocked)
    }
    const header = request.headers.authorization
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (!match) {
      throw new DeckhandError(
        'DH_ERR_AUTH_MISSING',
        'this API needs an admin token: send Authorization: Bearer <token>',
      )
    }
    const token = await options.store.useAdminToken(hashToken(match[1]!))
    if (!token) {
      const retryAfter = guard.fail(request.ip)
      if (retryAfter !== undefined) {
        throw refuse(reply, retryAfter)
      }
      throw new DeckhandError(
        'DH_ERR_AUTH_INVALID',
        'the admin token is not valid; check DECKHAND_TOKEN. The first token is the one the ' +
          'server printed on its first start, or its DECKHAND_ADMIN_TOKEN; ' +
          '`deckhand token create` makes more',
      )
    }
    request.adminToken = token
    setAdminToken(request, token)
  })
  // PATCH bodies are RFC 7396 merge patches; clients that say so in the content type (as the RFC
  // asks) get the same JSON parser, with its body limit and prototype-poisoning guard.
  app.addContentTypeParser(
    'application/merge-patch+json',
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'error'),
  )
  // Only the dependencies go down: Fastify would also apply this context's prefix again.
  const deps: ApiOptions = {
    admin: options.admin,
    store: options.store,
    events: options.events,
    worker: options.worker,
    releaser: options.releaser,
    clock: options.clock,
  }
  const all = [
    serviceRoutes,
    stackRoutes,
    triggerRoutes,
    deploymentRoutes,
    approvalRoutes,
    callRoutes,
    tokenRoutes,
    holdRoutes,
  ]
  for (const routes of [...all, serviceWatchRoutes, serviceEventRoutes, driverRoutes]) {
    await app.register(routes, deps)
  }
}
