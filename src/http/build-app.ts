/**
 * Builds the Fastify instance without listening, so tests can inject requests. Hooks and the
 * admin API are sibling contexts: the catch-all parser and body limit live only in hooks, the
 * admin-token check only in the API.
 */
import { createServer } from 'node:http'

import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify'
import type { Logger } from 'pino'

import type { CallAcceptor } from '../calls/accept-call.ts'
import type { DriverRegistry } from '../drivers/driver-registry.ts'
import { accessLevel } from './access-level.ts'
import type { ApiOptions } from './api/api-context.ts'
import { apiRoutes } from './api/api-routes.ts'
import { replyWithError } from './error-reply.ts'
import { hooksFastPath } from './hooks/hooks-fast-path.ts'
import { hooksRoutes } from './hooks/hooks-routes.ts'
import { IntakeLimit } from './hooks/intake-limit.ts'
import { redactUrl } from './redact-url.ts'
import { WEB_DIST_DIR, webUi } from './web-ui.ts'

export interface AppOptions extends ApiOptions {
  logger: Logger
  drivers: DriverRegistry
  acceptor: CallAcceptor
  maxBodyBytes: number
  /** Peers whose X-Forwarded-For is believed (DECKHAND_TRUSTED_PROXIES). */
  trustedProxies: string[]
  /** Plugins registered before the routes, e.g. the OpenAPI collector and metrics. */
  plugins?: ((app: FastifyInstance) => Promise<void> | void)[]
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  let closing = false
  // One bound for both ways in, so the fast path and Fastify's route shed alike.
  const intake = new IntakeLimit()
  const fastPath = hooksFastPath({ ...options, intake, closing: () => closing })
  const app: FastifyInstance = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // Fastify's own request lines carry the raw URL, and a trigger's URL is its secret.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: options.trustedProxies.length ? options.trustedProxies : false,
    bodyLimit: 1024 * 1024,
    // Slow or idle clients must not hold sockets forever (slowloris); senders finish in seconds.
    // A whole request (1 MiB over a slow link included) has 30 s. Its headers, which every
    // sender writes in one packet, have 10 s: Node's default was 60 s, so a slowloris dripping
    // header bytes held its socket twice as long as any real request could take, and the
    // check runs every 5 s instead of 30 so the limit is what actually happens.
    // The server is made here (serverFactory) so the hooks fast path sees requests first;
    // Fastify then leaves its timeouts to us.
    serverFactory: (handler) => {
      const server = createServer(
        { headersTimeout: 10_000, connectionsCheckingInterval: 5_000 },
        (request, response) => {
          if (!fastPath(request, response)) {
            handler(request, response)
          }
        },
      )
      server.requestTimeout = 30_000
      // A socket that sends nothing at all is closed after 30 s (was 60 s): no longer than a slow
      // request may take. Answers that legitimately stay silent longer (?wait=, SSE log follow)
      // extend or feed it themselves.
      server.setTimeout(30_000)
      // Above Node's 5 s for senders that reuse a connection, short enough that idle keep-alive
      // sockets do not pile up.
      server.keepAliveTimeout = 10_000
      return server
    },
    routerOptions: { maxParamLength: 256 },
    // Fastify's default strips fields a schema does not name: a typo such as `rateLimt` was
    // dropped and the default used without a word. Unknown fields are refused instead.
    ajv: { customOptions: { removeAdditional: false } },
    // Fastify's own answers to a malformed or overlong path quote the path, and a /hooks/
    // path is the trigger's token: these answer without it.
    frameworkErrors: (error, _request, reply) => {
      const status = error.statusCode ?? 400
      const message =
        status === 414
          ? 'the URL path is longer than any Deckhand route'
          : 'the URL path is not valid percent-encoding'
      void (reply as FastifyReply)
        .status(status)
        .send({ error: message, code: 'DH_ERR_VALIDATION' })
    },
  })
  app.addHook('preClose', async () => {
    closing = true
  })
  app.setErrorHandler(replyWithError)
  // Fastify's own 404 quotes the URL, and under /hooks/ the URL holds the trigger's token.
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      error: `no route answers ${request.method} ${redactUrl(request.url.split('?')[0] ?? '/')}`,
      code: 'DH_ERR_NOT_FOUND',
    }),
  )
  app.addHook('onResponse', async (request, reply) => {
    const retryAfter = reply.hasHeader('retry-after')
    const level = accessLevel(request.method, request.url, reply.statusCode, retryAfter)
    if (options.logger.isLevelEnabled(level)) {
      request.log[level](
        {
          method: request.method,
          url: redactUrl(request.url),
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime),
        },
        'request',
      )
    }
  })
  for (const plugin of options.plugins ?? []) {
    await plugin(app)
  }

  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_request, reply) => {
    const checks: Record<string, string> = {}
    try {
      await options.store.ping()
      checks.store = 'ok'
    } catch (error) {
      checks.store = (error as Error).message
    }
    for (const driver of options.drivers.all()) {
      try {
        await driver.ping()
        checks[driver.name] = 'ok'
      } catch (error) {
        checks[driver.name] = (error as Error).message
      }
    }
    const ready = Object.values(checks).every((value) => value === 'ok')
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks })
  })

  await app.register(hooksRoutes, {
    store: options.store,
    events: options.events,
    acceptor: options.acceptor,
    intake,
    maxBodyBytes: options.maxBodyBytes,
  })
  await app.register(apiRoutes, {
    prefix: '/api/v1',
    admin: options.admin,
    store: options.store,
    events: options.events,
    worker: options.worker,
    releaser: options.releaser,
    clock: options.clock,
  })
  await app.register(webUi, { distDir: WEB_DIST_DIR })
  return app
}
