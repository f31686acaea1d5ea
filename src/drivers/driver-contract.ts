/**
 * The behavioural suite every driver must pass. A driver's test file calls
 * `runDriverContract(name, factory)` with a factory that makes a fixture on the real
 * runtime; the suite wraps the fixture's driver in GuardedDriver, as the server does.
 *
 * @example
 * runDriverContract('process', async () => {
 *   const dataDir = await mkdtemp(join(tmpdir(), 'deckhand-'))
 *   const driver = new ProcessDriver({ dataDir })
 *   return {
 *     driver,
 *     service: () => makeService({ name: `web-${randomUUID()}`, driver: 'process', target: {...} }),
 *     observeEnv: (service) => ..., // read what a running replica sees
 *     brokenRedeploy: (service) => ({ service: { ...service, target: {...} }, change }),
 *     slowRedeploy: (service) => ...,
 *     cleanup: () => rm(dataDir, { recursive: true, force: true }),
 *   }
 * })
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test, type TestContext } from 'node:test'

import type { DriverName, Service } from '../model/index.ts'
import { contractDeployments } from './contract-deployments.ts'
import type { Driver, DriverContext, LogWriter, RedeployChange } from './driver.ts'
import { GuardedDriver } from './guarded-driver.ts'

/** What one driver's test file provides: a driver on a real runtime and ways to look at it. */
export interface DriverFixture {
  /** The driver under test, not wrapped: the suite wraps it in GuardedDriver. */
  driver: Driver
  /**
   * A fresh service no other test uses, whose instances start and become healthy. The suite
   * calls `attach` before using it and `detach` when the test ends.
   */
  service(): Service | Promise<Service>
  /**
   * The environment a running instance of `service` sees now: for a process, its replica's
   * environment; for a command, what the last command run saw.
   */
  observeEnv(service: Service): Promise<Record<string, string>>
  /**
   * A redeploy of `service` whose new instances never become healthy: the same service (same
   * name, same instances) with whatever target or change breaks the new ones.
   */
  brokenRedeploy(service: Service): { service: Service; change: RedeployChange }
  /**
   * A service whose instances are replaced stop-first (a process service on a base port), for
   * the case where the old instance is already gone when the new one fails. Default `service`.
   */
  stopFirstService?(): Service | Promise<Service>
  /**
   * False when `inspect` cannot count replicas (it reports null), as for the command driver,
   * whose scale is a command the operator writes. Default true.
   */
  observesReplicas?: boolean
  /** A redeploy of `service` that would take at least 10 s if nothing stopped it. */
  slowRedeploy(service: Service): { service: Service; change: RedeployChange }
  /** Releases everything the fixture made (temp dirs, networks); the drivers' own state too. */
  cleanup(): Promise<void>
}

export type DriverFactory = () => Promise<DriverFixture>

/** The tests of the suite. */
export const DRIVER_CONTRACT_TESTS = {
  target: 'checkTarget accepts a working target and names the field of a broken one',
  env: 'a redeploy succeeds and the new instances see the change environment',
  unhealthy:
    'a redeploy whose new instances fail is failed with a reason; a driver that waits for health leaves the old ones running',
  restores:
    'target changed to something that never becomes healthy: the deployment fails, the old instances serve again with the spec they ran, the service row still shows it and the deployment records what was tried',
  scale:
    'scale to n succeeds, and inspect reports n (or null when the driver cannot count replicas)',
  abort: 'an aborted signal ends the call promptly as failed',
  deadline: 'a call that outlives its deadline ends promptly as failed',
  throws: 'a driver that throws becomes a failed outcome through GuardedDriver',
} as const
export type DriverContractTest = keyof typeof DRIVER_CONTRACT_TESTS

export interface DriverContractOptions {
  /** How soon after an abort or a deadline the call must have returned. Default 5 s. */
  promptMs?: number
}

/** A service with every field filled in; tests override what they care about. */
export function makeService(
  fields: Partial<Service> & Pick<Service, 'name' | 'driver' | 'target'>,
): Service {
  const now = new Date().toISOString()
  return {
    image: null,
    tag: null,
    git: null,
    scale: { min: 0, max: 10 },
    tagPolicy: 'all',
    deploy: { order: 'start-first', healthTimeoutMs: 10_000, pull: 'missing', rollback: true },
    replicas: null,
    createdAt: now,
    updatedAt: now,
    ...fields,
  }
}

/** A DriverContext for tests, with the lines written to its log collected in `lines`. */
export function makeContext(
  options: { signal?: AbortSignal; timeoutMs?: number; onLog?: LogWriter } = {},
): { ctx: DriverContext; lines: string[] } {
  const lines: string[] = []
  const ctx: DriverContext = {
    signal: options.signal ?? new AbortController().signal,
    deadline: Date.now() + (options.timeoutMs ?? 60_000),
    deploymentId: randomUUID(),
    log: (line, stream) => {
      lines.push(line)
      options.onLog?.(line, stream)
    },
  }
  return { ctx, lines }
}

export function runDriverContract(
  name: DriverName | string,
  factory: DriverFactory,
  options: DriverContractOptions = {},
): void {
  const promptMs = options.promptMs ?? 5000

  describe(`${name} driver contract`, () => {
    let fixture: DriverFixture
    let driver: GuardedDriver
    before(async () => {
      fixture = await factory()
      driver = new GuardedDriver(fixture.driver)
    })
    after(async () => {
      await fixture?.cleanup()
    })

    const contractTest = (
      id: DriverContractTest,
      body: (t: TestContext) => Promise<void>,
    ): void => {
      test(DRIVER_CONTRACT_TESTS[id], body)
    }

    /** A fresh attached service, detached when the test ends. */
    const attached = async (t: TestContext): Promise<Service> => {
      const service = await fixture.service()
      await driver.attach(service)
      t.after(() => driver.detach(service))
      return service
    }

    /** Redeploys with a marker variable and checks it succeeded; returns the marker. */
    const deployMarker = async (service: Service): Promise<string> => {
      const marker = randomUUID()
      const change = { tag: undefined, env: { DECKHAND_CONTRACT_MARKER: marker } }
      const outcome = await driver.redeploy(service, change, makeContext().ctx)
      assert.equal(outcome.state, 'succeeded', JSON.stringify(outcome))
      return marker
    }

    contractTest('target', async () => {
      const service = await fixture.service()
      assert.deepEqual(driver.checkTarget(service.target), [])
      const problems = driver.checkTarget({ deckhandNoSuchField: 1 })
      assert.ok(problems.length > 0, 'a broken target must have problems')
      assert.ok(
        problems.some((p) => p.includes('target.')),
        `problems name the field: ${problems}`,
      )
    })

    contractTest('env', async (t) => {
      const service = await attached(t)
      const first = await deployMarker(service)
      assert.equal((await fixture.observeEnv(service)).DECKHAND_CONTRACT_MARKER, first)
      const second = await deployMarker(service)
      assert.equal((await fixture.observeEnv(service)).DECKHAND_CONTRACT_MARKER, second)
    })

    contractTest('unhealthy', async (t) => {
      const service = await attached(t)
      const marker = await deployMarker(service)
      const broken = fixture.brokenRedeploy(service)
      const outcome = await driver.redeploy(broken.service, broken.change, makeContext().ctx)
      assert.equal(outcome.state, 'failed')
      assert.ok(outcome.state === 'failed' && outcome.error.length > 0)
      // A driver that does not wait for health (command) has no old instances to keep.
      if (driver.capabilities.waitsForHealth) {
        assert.equal((await fixture.observeEnv(service)).DECKHAND_CONTRACT_MARKER, marker)
        const status = await driver.inspect(service)
        assert.notEqual(status.replicas, 0, 'the old instances still run')
      }
    })

    contractTest('restores', async (t) => {
      const service = await (fixture.stopFirstService ?? fixture.service)()
      await driver.attach(service)
      t.after(() => driver.detach(service))
      // Through the worker and a store, as the server runs it: the row and the record count too.
      const run = await contractDeployments(t, fixture.driver, service)
      // Two instances where the driver counts them, so every one of them must come back.
      if (driver.capabilities.canScale && fixture.observesReplicas !== false) {
        const scaled = await run.scale(2)
        assert.equal(scaled.state, 'succeeded', scaled.error ?? '')
      }
      const marker = randomUUID()
      const first = await run.redeploy({
        tag: undefined,
        env: { DECKHAND_CONTRACT_MARKER: marker },
      })
      assert.equal(first.state, 'succeeded', first.error ?? '')
      const running = (await run.store.getService(service.name))!
      const before = (await driver.inspect(running)).replicas
      const broken = fixture.brokenRedeploy(service)
      // What an operator's PATCH leaves in the row; the failed change also carries new variables.
      await run.patch(broken.service)
      const triedEnv = { ...broken.change.env, DECKHAND_CONTRACT_MARKER: `tried-${marker}` }
      const failed = await run.redeploy({ ...broken.change, env: triedEnv })
      assert.equal(failed.state, 'failed')
      const row = await run.store.getService(service.name)
      assert.deepEqual(
        [row?.target, row?.image],
        [service.target, service.image],
        'the row shows the spec that runs',
      )
      assert.equal(row?.tag, service.tag, 'the tag tried is not the tag that runs')
      assert.deepEqual(failed.tried, {
        ...(JSON.stringify(broken.service.target) === JSON.stringify(service.target)
          ? {}
          : { target: broken.service.target }),
        ...(broken.service.image === service.image ? {} : { image: broken.service.image }),
        ...(broken.change.tag === undefined ? {} : { tag: broken.change.tag }),
      })
      if (driver.capabilities.waitsForHealth) {
        assert.equal((await fixture.observeEnv(service)).DECKHAND_CONTRACT_MARKER, marker)
        const status = await driver.inspect(running)
        assert.equal(
          status.replicas,
          before,
          `the old instances serve again: ${JSON.stringify(status)}`,
        )
        assert.ok(
          status.items.every((item) => item.state === 'running'),
          JSON.stringify(status.items),
        )
      }
    })

    contractTest('scale', async (t) => {
      const service = await attached(t)
      const change = { tag: undefined, env: {} }
      for (const replicas of [2, 1]) {
        const outcome = await driver.scale(service, replicas, change, makeContext().ctx)
        assert.deepEqual(outcome, { state: 'succeeded', replicas })
        const scaled = { ...service, replicas }
        assert.equal(
          (await driver.inspect(scaled)).replicas,
          fixture.observesReplicas === false ? null : replicas,
        )
      }
    })

    contractTest('abort', async (t) => {
      const service = await attached(t)
      const marker = await deployMarker(service)
      const slow = fixture.slowRedeploy(service)
      const controller = new AbortController()
      let abortedAt = 0
      // Abort once the driver has shown it is at work, so the abort lands mid-flight.
      const { ctx } = makeContext({
        signal: controller.signal,
        onLog: () => {
          if (abortedAt === 0) {
            abortedAt = Date.now()
            controller.abort()
          }
        },
      })
      const outcome = await driver.redeploy(slow.service, slow.change, ctx)
      assert.ok(abortedAt > 0, 'the driver wrote a log line before finishing')
      const tookMs = Date.now() - abortedAt
      assert.ok(tookMs < promptMs, `the call ended ${tookMs} ms after the abort`)
      assert.equal(outcome.state, 'failed')
      assert.match(outcome.state === 'failed' ? outcome.error : '', /cancel/)
      if (driver.capabilities.waitsForHealth) {
        assert.equal((await fixture.observeEnv(service)).DECKHAND_CONTRACT_MARKER, marker)
      }
      const already = await driver.redeploy(slow.service, slow.change, ctx)
      assert.equal(already.state, 'failed', 'an already aborted signal fails at once')
    })

    contractTest('deadline', async (t) => {
      const service = await attached(t)
      const slow = fixture.slowRedeploy(service)
      const { ctx } = makeContext({ timeoutMs: 2000 })
      const outcome = await driver.redeploy(slow.service, slow.change, ctx)
      const lateMs = Date.now() - ctx.deadline
      assert.ok(lateMs < promptMs, `the call ended ${lateMs} ms after its deadline`)
      assert.equal(outcome.state, 'failed')
      assert.match(outcome.state === 'failed' ? outcome.error : '', /deadline of 2s passed/)
    })

    contractTest('throws', async () => {
      const service = await fixture.service()
      const inner = fixture.driver
      const throwing: Driver = {
        name: inner.name,
        capabilities: inner.capabilities,
        checkTarget: (target) => inner.checkTarget(target),
        redeploy: () => {
          throw new Error('the runtime said no')
        },
        scale: async () => {
          throw 'a string, not an Error'
        },
        inspect: (s) => inner.inspect(s),
        attach: (s) => inner.attach(s),
        detach: (s) => inner.detach(s),
        ping: () => inner.ping(),
        close: async () => {},
      }
      const guarded = new GuardedDriver(throwing)
      const change = { tag: undefined, env: {} }
      const redeployed = await guarded.redeploy(service, change, makeContext().ctx)
      assert.deepEqual(redeployed, { state: 'failed', error: 'the runtime said no' })
      const scaled = await guarded.scale(service, 2, change, makeContext().ctx)
      assert.deepEqual(scaled, { state: 'failed', error: 'a string, not an Error' })
    })
  })
}
