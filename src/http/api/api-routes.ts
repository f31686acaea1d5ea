/** /api/v1: the admin API. The bearer-token hook lives in this context only. */
import type { FastifyInstance } from 'fastify'
import { DeckhandError } from '../../errors.ts'
import { hashToken } from '../../triggers/token.ts'
import type { ApiOptions } from './api-context.ts'
import { callRoutes } from './calls.ts'
import { deploymentRoutes } from './deployments.ts'
import { serviceRoutes } from './services.ts'
import { stackRoutes } from './stacks.ts'
import { tokenRoutes } from './tokens.ts'
import { triggerRoutes } from './triggers.ts'

export async function apiRoutes(app: FastifyInstance, options: ApiOptions): Promise<void> {
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (!match) {
      throw new DeckhandError('DH_ERR_AUTH_MISSING', 'this API needs an admin token: send Authorization: Bearer <token>')
    }
    if (!(await options.store.useAdminToken(hashToken(match[1]!)))) {
      throw new DeckhandError('DH_ERR_AUTH_INVALID', 'the admin token is not valid; create one with `deckhand token create` or check DECKHAND_TOKEN')
    }
  })
  // Only the dependencies go down: Fastify would also apply this context's prefix again.
  const deps: ApiOptions = { admin: options.admin, store: options.store, events: options.events, worker: options.worker }
  for (const routes of [serviceRoutes, stackRoutes, triggerRoutes, deploymentRoutes, callRoutes, tokenRoutes]) {
    await app.register(routes, deps)
  }
}
