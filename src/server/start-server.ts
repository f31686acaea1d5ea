/**
 * The composition root: settings → store → drivers → worker → HTTP. The only place that knows
 * every concrete part; start, recovery after a crash, and graceful stop live here.
 */
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'

import type { FastifyInstance } from 'fastify'
import pino, { type Logger } from 'pino'

import { Admin } from '../admin/admin.ts'
import { CallAcceptor } from '../calls/accept-call.ts'
import { applyConfig } from '../config/config-apply.ts'
import { ConfigFileError, loadConfigFile } from '../config/config-file.ts'
import { passToChildren } from '../drivers/child-env.ts'
import { DriverRegistry } from '../drivers/driver-registry.ts'
import { EventBus } from '../events.ts'
import { buildApp } from '../http/build-app.ts'
import { registerOpenApi } from '../http/openapi.ts'
import { createMetrics } from '../metrics/metrics.ts'
import { knownSecrets } from '../model/secret-redactor.ts'
import { type NotifyOptions, startNotifiers } from '../notify/notifiers.ts'
import { readNotifyUrls } from '../notify/webhook-notifier.ts'
import { DeploymentWorker } from '../queue/deployment-worker.ts'
import { RegistryCredentials } from '../registry/registry-credentials.ts'
import { startApprovalSweeper } from '../release/approval-sweeper.ts'
import { HoldReleaser } from '../release/hold-releaser.ts'
import { LOG_CHANNEL, type Store } from '../store/store.ts'
import { Watcher } from '../watch/watcher.ts'
import { logActivity } from './activity-log.ts'
import { bootstrapAdminToken } from './admin-token.ts'
import { createDrivers, registryClient } from './create-drivers.ts'
import { ensureListenable, listenError } from './listen-address.ts'
import { openStore } from './open-store.ts'
import { startRetention } from './retention.ts'
import type { ServerSettings } from './settings.ts'

export interface RunningServer {
  url: string
  app: FastifyInstance
  store: Store
  events: EventBus
  logger: Logger
  /** Stops accepting, lets running deployments finish within the grace period, closes the store. */
  close(): Promise<void>
}

/** Notifications wait this long at stop for posts under way, then are abandoned. */
const NOTIFY_GRACE_MS = 2000
/** Deadlines are hours long: checking a few times a minute cancels within seconds of one. */
const APPROVAL_SWEEP_MS = 15_000

export async function startServer(
  settings: ServerSettings & {
    notify?: Partial<NotifyOptions>
    /** How often the watcher reads the watched services again (tests shorten it). */
    watch?: { refreshMs?: number }
  },
  logger: Logger = pino({ level: settings.logLevel }),
): Promise<RunningServer> {
  const owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
  const events = new EventBus((error, event) =>
    logger.error({ err: error, event, code: 'DH_ERR_INTERNAL' }, 'event listener failed'),
  )
  // A bad deckhand.yaml is refused before the store opens or a driver acts: the same checks as
  // `config validate` plus the enabled drivers' own target checks, so nothing is left half applied.
  const enabledDrivers = settings.drivers
  const staticCheck = settings.configFile
    ? loadConfigFile(settings.configFile, process.env, { enabledDrivers })
    : undefined
  if (staticCheck && !staticCheck.ok) {
    throw new ConfigFileError(staticCheck.errors)
  }
  await ensureListenable(settings.host, settings.port)
  passToChildren(settings.passEnv)
  const drivers = new DriverRegistry(await createDrivers(settings, logger))
  const config = settings.configFile
    ? loadConfigFile(settings.configFile, process.env, {
        enabledDrivers,
        checkTarget: (driver, target) => drivers.checkTarget(driver, target),
      })
    : undefined
  if (config && !config.ok) {
    await closeAll(drivers)
    throw new ConfigFileError(config.errors)
  }
  const store = await openStore(settings)
  await store.migrate()

  // Known before anything is recorded: a deployment failed as interrupted just below records
  // its tried target redacted when it is written, never when it is shown.
  knownSecrets.remember(settings.adminToken)
  if (!store.capabilities.multiWriter) {
    const interrupted = await store.failAbandoned(
      'interrupted: Deckhand stopped while this deployment ran',
      'all',
    )
    for (const deployment of interrupted) {
      logger.warn(
        { deployment: deployment.id, service: deployment.service },
        'marked an interrupted deployment as failed',
      )
    }
  }
  await attachAll(store, drivers, logger)

  const admin = new Admin({
    store,
    drivers,
    events,
    publicUrl: settings.publicUrl,
    ...(settings.clock ? { clock: settings.clock } : {}),
  })
  if (config?.ok) {
    try {
      const applied = await applyConfig(config.config, admin)
      logger.info(
        { config: config.config.file, changes: applied.changes },
        `applied ${config.config.file}: ${applied.changes.length} changes`,
      )
    } catch (error) {
      await closeAll(drivers)
      await store.close()
      throw error
    }
  }
  // After the file is applied, so a refused file never prints or stores a first admin token.
  await bootstrapAdminToken(store, settings.adminToken, settings.announce)
  const metrics = createMetrics(events, store)
  logActivity(events, store, logger)
  let publicUrl = settings.publicUrl
  // DECKHAND_NOTIFY_URLS is read here until ServerSettings carries it.
  const notifiers = startNotifiers({
    events,
    logger,
    publicUrl: () => publicUrl,
    callbackHosts: settings.callbackHosts,
    logs: store,
    statuses: { tokens: settings.statusTokens, services: store },
    globalTargets:
      settings.notify?.globalTargets ?? readNotifyUrls(process.env.DECKHAND_NOTIFY_URLS),
    ...(settings.notify?.retryDelaysMs ? { retryDelaysMs: settings.notify.retryDelaysMs } : {}),
  })
  const worker = new DeploymentWorker({
    store,
    drivers,
    events,
    logger,
    owner,
    concurrency: settings.concurrency,
    leaseMs: settings.leaseMs,
  })
  const acceptor = new CallAcceptor(store, events, {
    canChangeTag: (driver) => drivers.get(driver)?.capabilities.canChangeTag ?? true,
    ...(settings.clock ? { clock: settings.clock } : {}),
  })
  const releaser = new HoldReleaser({
    store,
    events,
    logger,
    ...(settings.clock ? { clock: settings.clock } : {}),
    ...(settings.releaseCheckMs ? { maxWaitMs: settings.releaseCheckMs } : {}),
  })
  const app = await buildApp({
    logger,
    admin,
    store,
    events,
    worker,
    releaser,
    clock: settings.clock,
    drivers,
    acceptor,
    maxBodyBytes: settings.maxBodyBytes,
    trustedProxies: settings.trustedProxies,
    plugins: [registerOpenApi, metrics.plugin, ...(settings.plugins ?? [])],
  })
  // Swept four times per lease: a lost instance's deployment is marked at most a quarter of a
  // lease after its lease ran out (sweeping once per lease took up to two leases after a kill).
  const leaseSweep = store.capabilities.multiWriter
    ? setInterval(
        () => {
          store
            .failAbandoned('instance lost: its lease expired while the deployment ran', 'expired')
            .catch((error: unknown) => {
              logger.error({ err: error, code: 'DH_ERR_STORE_UNAVAILABLE' }, 'lease sweep failed')
            })
        },
        Math.max(50, Math.floor(settings.leaseMs / 4)),
      )
    : undefined
  const remoteLogs = await followRemoteLogs(store, events, logger)
  const retention = startRetention({
    store,
    logger,
    retainMs: settings.retainMs,
    retainCalls: settings.retainCalls,
    intervalMs: settings.pruneIntervalMs,
  })
  const approvals = startApprovalSweeper({
    store,
    events,
    logger,
    intervalMs: settings.approvalSweepMs ?? APPROVAL_SWEEP_MS,
  })
  const watcher = new Watcher({
    store,
    events,
    registry: registryClient(settings, new RegistryCredentials(settings.registryAuth)),
    logger,
    owner,
    useLease: store.capabilities.multiWriter,
    ...(settings.watch?.refreshMs ? { refreshMs: settings.watch.refreshMs } : {}),
  })
  worker.start()
  watcher.start()
  releaser.start()
  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= (async () => {
      clearInterval(leaseSweep)
      await watcher.stop()
      await retention.stop()
      await approvals.stop()
      await remoteLogs.stop()
      metrics.close()
      await app.close()
      await releaser.stop()
      await worker.stop(settings.shutdownGraceMs)
      await notifiers.close(NOTIFY_GRACE_MS)
      // A store that cannot write still closes: its files must not stay open after shutdown.
      const unrecorded = await store
        .failAbandoned('interrupted: Deckhand shut down while this deployment ran', { owner })
        .then(
          () => undefined,
          (error: unknown) => error,
        )
      for (const driver of drivers.all()) {
        await driver.close()
      }
      await store.close()
      if (unrecorded !== undefined) {
        throw unrecorded
      }
    })()
    return closing
  }
  try {
    await app.listen({ host: settings.host, port: settings.port })
  } catch (error) {
    // Another program took the port after ensureListenable looked.
    await close()
    throw listenError(error, settings.host, settings.port)
  }
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : settings.port
  const url = `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`
  if (settings.port === 0 && settings.publicUrl.endsWith(':0')) {
    admin.setPublicUrl(url)
    publicUrl = url
  }
  logger.info(
    { url, store: settings.databaseUrl.split(':')[0], drivers: drivers.all().map((d) => d.name) },
    'deckhand is serving',
  )

  return { url, app, store, events, logger, close }
}

/**
 * Wakes this instance's log followers when another instance sharing the store writes log
 * lines (Store.subscribe, PostgreSQL NOTIFY), so they need not wait for their poll. Resolves
 * once listening; a failed or lost connection is retried every second, and followers still
 * poll meanwhile, so nothing is missed, only later.
 */
async function followRemoteLogs(
  store: Store,
  events: EventBus,
  logger: Logger,
): Promise<{ stop: () => Promise<void> }> {
  const subscribe = store.subscribe?.bind(store)
  let stopped = false
  let end: (() => Promise<void>) | undefined
  let retry: NodeJS.Timeout | undefined
  const again = () => {
    if (!stopped) {
      retry = setTimeout(listen, 1000)
    }
  }
  const lost = (error: Error) => {
    end = undefined
    logger.warn({ err: error }, 'lost the log notifications of other instances; listening again')
    again()
  }
  const listen = async () => {
    try {
      end = await subscribe?.(
        LOG_CHANNEL,
        (deploymentId) => events.emit('deployment:remote-change', { deploymentId }),
        lost,
      )
      if (stopped) {
        await end?.()
      }
    } catch (error) {
      logger.warn({ err: error }, 'could not listen for the log notifications of other instances')
      again()
    }
  }
  await listen()
  return {
    stop: async () => {
      stopped = true
      clearTimeout(retry)
      await end?.()
    },
  }
}

async function closeAll(drivers: DriverRegistry): Promise<void> {
  for (const driver of drivers.all()) {
    await driver.close()
  }
}

/** Tells each driver of every service, so the process driver adopts or restarts replicas. */
async function attachAll(store: Store, drivers: DriverRegistry, logger: Logger): Promise<void> {
  let cursor: string | undefined
  do {
    const page = await store.listServices({ limit: 1000, cursor })
    for (const service of page.items) {
      try {
        await drivers.get(service.driver)?.attach(service)
      } catch (error) {
        logger.error(
          { err: error, service: service.name, code: 'DH_ERR_DRIVER_UNAVAILABLE' },
          'driver could not take the service at start',
        )
      }
    }
    cursor = page.next ?? undefined
  } while (cursor)
}
