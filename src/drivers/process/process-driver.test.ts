/** The process driver on real child processes: the contract, then supervision, adoption and ports. */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { get } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test, type TestContext } from 'node:test'

import { waitFor } from '../../../test/support/wait-for.ts'
import type { Service } from '../../model/index.ts'
import { makeContext, makeService, runDriverContract } from '../driver-contract.ts'
import { ProcessDriver } from './process-driver.ts'
import { readProcStat } from './process-group.ts'
import type { PidRecord } from './replica.ts'

// Every replica these tests start carries this marker, so a leak check can find strays.
const RUN = randomUUID()
const NO_CHANGE = { tag: undefined, env: {} }

const SERVER = `
import { createServer } from 'node:http'
if (process.env.CRASH_ON_START) {
  console.error('fatal: told to crash on start')
  process.exit(3)
}
const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(process.env.UNHEALTHY ? 500 : 200).end('ok')
  } else if (req.url === '/env') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(process.env))
  } else {
    res.writeHead(404).end()
  }
})
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening on ' + process.env.PORT))
process.on('SIGTERM', () => process.exit(0))
`

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  assert.ok(address && typeof address === 'object')
  return address.port
}

async function isPortFree(port: number): Promise<boolean> {
  const server = createServer()
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => resolve(true))
  })
  if (bound) {
    await new Promise((resolve) => server.close(resolve))
  }
  return bound
}

/** A base port whose next `count - 1` ports are free too. */
async function freeBasePort(count: number): Promise<number> {
  for (;;) {
    const base = await freePort()
    const rest = await Promise.all(
      Array.from({ length: count - 1 }, (_, i) => isPortFree(base + 1 + i)),
    )
    if (rest.every(Boolean) && base + count <= 65535) {
      return base
    }
  }
}

/** GET without keep-alive, so no socket outlives the test. */
function getText(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    }).on('error', reject)
  })
}

function pidRecords(dataDir: string, service: string): PidRecord[] {
  const dir = join(dataDir, 'process', service)
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith('.pid'))
      .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as PidRecord)
  } catch {
    return []
  }
}

function environOf(pid: number): Record<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean)
  return Object.fromEntries(
    entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  )
}

/** Live processes started by this test file, found by the marker in their environment. */
function strayProcesses(): number[] {
  return processesWith(`DECKHAND_TEST_RUN=${RUN}`)
}

/** Live processes whose environment holds `entry` (NAME=value). */
function processesWith(variable: string): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid === process.pid) {
      continue
    }
    try {
      const stat = readProcStat(pid)
      if (
        stat &&
        stat.state !== 'Z' &&
        readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(variable)
      ) {
        found.push(pid)
      }
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found
}

async function newDataDir(t: TestContext | undefined): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'deckhand-process-'))
  t?.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

let serviceCount = 0
function processService(target: Record<string, unknown>, fields: Partial<Service> = {}): Service {
  serviceCount += 1
  const env = { DECKHAND_TEST_RUN: RUN, ...(target.env as Record<string, string> | undefined) }
  return makeService({
    name: `svc-${serviceCount}`,
    driver: 'process',
    target: { ...target, env },
    deploy: { order: 'start-first', healthTimeoutMs: 5000, pull: 'missing', rollback: true },
    ...fields,
  })
}

after(async () => {
  await waitFor(() => strayProcesses().length === 0, { timeoutMs: 5000, what: 'no stray replicas' })
})

runDriverContract('process', async () => {
  const dataDir = await newDataDir(undefined)
  const driver = new ProcessDriver({ dataDir })
  return {
    driver,
    service: () => processService({ command: 'exec sleep 600' }),
    // A base port makes replacement stop-first; sleep never binds it, so any free one will do.
    stopFirstService: async () =>
      processService({ command: 'exec sleep 600', basePort: await freeBasePort(1) }),
    observeEnv: async (service) => {
      const live = pidRecords(dataDir, service.name).filter((r) => r.index === 0)
      const newest = live.sort((a, b) => b.generation - a.generation)[0]
      assert.ok(newest, `service ${service.name} has a replica 0`)
      return environOf(newest.pid)
    },
    brokenRedeploy: (service) => ({
      service: {
        ...service,
        target: { ...service.target, command: 'echo "about to fail"; exit 3' },
      },
      change: NO_CHANGE,
    }),
    slowRedeploy: (service) => ({
      service: {
        ...service,
        target: { ...service.target, health: { runningFor: '30s' } },
        deploy: { ...service.deploy, healthTimeoutMs: 60_000 },
      },
      change: NO_CHANGE,
    }),
    cleanup: async () => {
      await driver.close()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
})

/**
 * A data dir with the test HTTP server in it and a driver with quick supervision. Cleanup runs
 * in reverse order of setup (detach, close, then remove the dir), which t.after's FIFO would not.
 */
async function setUp(t: TestContext, fast = true) {
  const dataDir = await newDataDir(undefined)
  const undo: (() => unknown)[] = [() => rm(dataDir, { recursive: true, force: true })]
  t.after(async () => {
    for (const step of undo.reverse()) {
      await step()
    }
  })
  writeFileSync(join(dataDir, 'server.mjs'), SERVER)
  const events: string[] = []
  const supervision = fast ? { initialBackoffMs: 50, maxBackoffMs: 400, pollMs: 50 } : {}
  const driver = new ProcessDriver({ dataDir, supervision, log: (msg) => events.push(msg) })
  undo.push(() => driver.close())
  /** Attaches `service` now and detaches it (stopping its replicas) when the test ends. */
  const attach = async (service: Service, on: ProcessDriver = driver): Promise<Service> => {
    await on.attach(service)
    undo.push(() => on.detach(service))
    return service
  }
  const command = `exec "${process.execPath}" server.mjs`
  return { dataDir, driver, events, command, undo, attach }
}

describe('process driver', () => {
  test('attach starts replicas on their ports with pid files; detach stops them and removes the directory', async (t) => {
    const { dataDir, driver, command, undo } = await setUp(t)
    const basePort = await freeBasePort(2)
    const service = processService({
      command,
      cwd: dataDir,
      basePort,
      replicas: 2,
      health: { http: '/healthz' },
    })
    await driver.attach(service)
    undo.push(() => driver.detach(service))
    const records = await waitFor(() => {
      const found = pidRecords(dataDir, service.name)
      return found.length === 2 ? found : undefined
    })
    for (const record of records) {
      assert.equal(
        record.startTime,
        readProcStat(record.pid)?.startTime,
        'the pid file holds /proc field 22',
      )
      assert.equal(record.port, basePort + record.index)
    }
    for (const port of [basePort, basePort + 1]) {
      const { body } = await waitFor(() => getText(port, '/env'), { what: `a replica on ${port}` })
      assert.equal(JSON.parse(body).PORT, String(port))
    }
    const status = await driver.inspect(service)
    assert.equal(status.replicas, 2)
    assert.deepEqual(
      status.items.map((i) => [i.id, i.state]),
      [
        [`${service.name}-0`, 'running'],
        [`${service.name}-1`, 'running'],
      ],
    )

    await driver.detach(service)
    for (const record of records) {
      assert.equal(readProcStat(record.pid), undefined, `replica ${record.pid} is gone`)
    }
    assert.deepEqual(pidRecords(dataDir, service.name), [])
    assert.throws(() => readdirSync(join(dataDir, 'process', service.name)), /ENOENT/)
  })

  test('with a base port, a redeploy replaces replicas one at a time and says why', async (t) => {
    const { dataDir, driver, command, attach } = await setUp(t)
    const basePort = await freeBasePort(2)
    const service = await attach(
      processService({
        command,
        cwd: dataDir,
        basePort,
        replicas: 2,
        health: { http: '/healthz' },
      }),
    )
    const { ctx, lines } = makeContext()
    const outcome = await driver.redeploy(service, { tag: undefined, env: { RELEASE: 'two' } }, ctx)
    assert.deepEqual(outcome, { state: 'succeeded', replicas: 2 })
    assert.ok(
      lines.some((l) => l.includes('one at a time')),
      lines.join('\n'),
    )
    assert.ok(
      lines.includes(`[0] listening on ${basePort}`),
      'the new replica output is in the log',
    )
    for (const port of [basePort, basePort + 1]) {
      assert.equal(JSON.parse((await getText(port, '/env')).body).RELEASE, 'two')
    }
    assert.equal(pidRecords(dataDir, service.name).length, 2, 'the old replicas are gone')
  })

  test('a new replica that fails its health check is stopped, the old one restored, its output quoted', async (t) => {
    const { dataDir, driver, command, attach } = await setUp(t)
    const basePort = await freeBasePort(1)
    const service = await attach(
      processService({ command, cwd: dataDir, basePort, health: { http: '/healthz' } }),
    )
    const good = await driver.redeploy(
      service,
      { tag: undefined, env: { RELEASE: 'good' } },
      makeContext().ctx,
    )
    assert.equal(good.state, 'succeeded')

    const broken = { ...service, deploy: { ...service.deploy, healthTimeoutMs: 5000 } }
    const outcome = await driver.redeploy(
      broken,
      { tag: undefined, env: { UNHEALTHY: '1' } },
      makeContext().ctx,
    )
    assert.equal(outcome.state, 'failed')
    const error = outcome.state === 'failed' ? outcome.error : ''
    assert.match(
      error,
      /did not become healthy within 5s \(last check: GET \/healthz on port \d+ answered 500\)/,
    )
    assert.match(error, new RegExp(`its last output:\\nlistening on ${basePort}`))
    assert.match(error, /Replicas 0 were restored as they ran before\./)
    const env = JSON.parse((await getText(basePort, '/env')).body)
    assert.equal(env.RELEASE, 'good')
    assert.equal(env.UNHEALTHY, undefined)
  })

  test('a stop-first redeploy to a command that fails restarts the old command, not the new one', async (t) => {
    const { dataDir, driver, command, attach } = await setUp(t)
    const basePort = await freeBasePort(1)
    const service = await attach(
      processService({ command, cwd: dataDir, basePort, health: { http: '/healthz' } }),
    )
    const good = await driver.redeploy(
      service,
      { tag: undefined, env: { RELEASE: 'good' } },
      makeContext().ctx,
    )
    assert.equal(good.state, 'succeeded')

    const target = { ...service.target, command: 'echo broken build; exit 1' }
    const broken = { ...service, target }
    const outcome = await driver.redeploy(
      broken,
      { tag: undefined, env: { RELEASE: 'bad' } },
      makeContext().ctx,
    )
    assert.equal(outcome.state, 'failed')
    const error = outcome.state === 'failed' ? outcome.error : ''
    assert.match(error, /its last output:\nbroken build\n/)
    assert.match(error, /Replicas 0 were restored as they ran before\./)
    const env = JSON.parse((await getText(basePort, '/env')).body)
    assert.equal(env.RELEASE, 'good', 'the old replica serves with its own environment')
    // The supervisor restarts a crash from the slot's own target, so it stays the old command.
    const statuses = (await driver.inspect(broken)).items
    assert.deepEqual(
      statuses.map((s) => s.state),
      ['running'],
    )
  })

  test('a stop-first first start that fails stops the replicas it started: nothing ran there before', async (t) => {
    const { dataDir, driver, undo } = await setUp(t)
    const basePort = await freeBasePort(2)
    const service = processService({
      command: `if [ "$PORT" = ${basePort + 1} ]; then echo no config; exit 1; fi; exec sleep 600`,
      basePort,
      replicas: 2,
    })
    undo.push(() => driver.detach(service))
    const outcome = await driver.redeploy(service, NO_CHANGE, makeContext().ctx)
    assert.equal(outcome.state, 'failed')
    assert.deepEqual((await driver.inspect(service)).items, [])
    assert.deepEqual(pidRecords(dataDir, service.name), [], 'replica 0 was stopped too')
  })

  test('start-first keeps the old replicas serving until every new one is healthy', async (t) => {
    const { driver, attach } = await setUp(t)
    const service = await attach(processService({ command: 'exec sleep 600', replicas: 2 }))
    const before = (await driver.inspect(service)).items.map((i) => i.detail)
    const { ctx, lines } = makeContext()
    const outcome = await driver.redeploy(service, { tag: undefined, env: { CRASH: 'no' } }, ctx)
    assert.deepEqual(outcome, { state: 'succeeded', replicas: 2 })
    const healthyAt = lines.findLastIndex((l) => /replica \d is healthy/.test(l))
    const stoppingAt = lines.findIndex((l) => l.includes('stopping 2 old ones'))
    assert.ok(healthyAt >= 0 && healthyAt < stoppingAt, lines.join('\n'))
    assert.notDeepEqual(
      (await driver.inspect(service)).items.map((i) => i.detail),
      before,
    )
  })

  test('a replica that keeps crashing is restarted with doubling backoff and reported as crashed', async (t) => {
    const { driver, events, attach } = await setUp(t)
    const service = processService({ command: 'echo crashing; exit 7' })
    await attach(service)
    const crashed = await waitFor(
      async () => (await driver.inspect(service)).items.find((i) => i.state === 'crashed'),
      { what: 'a crashed replica' },
    )
    assert.ok((crashed.restarts ?? 0) >= 3)
    assert.match(crashed.detail ?? '', /exited with code 7/)
    await waitFor(() => events.filter((e) => e.includes('restarting in')).length >= 5)
    const delays = events
      .filter((e) => e.includes('restarting in'))
      .map((e) => Number(/in (\d+) ms/.exec(e)?.[1]))
    assert.deepEqual(
      delays.slice(0, 5),
      [50, 100, 200, 400, 400],
      'doubles up to the cap, no hot loop',
    )
  })

  test('a scale-down replacing a crash-looping replica cancels its restart: no old process starts beside the new one', async (t) => {
    const { dataDir, driver, events, attach } = await setUp(t)
    const basePort = await freeBasePort(2)
    const mark = `DECKHAND_TEST_SERVICE=${randomUUID()}`
    // Replica 0 crashes while its file exists, as a replica whose database is down would.
    const broken = join(dataDir, `broken-${basePort}`)
    const service = await attach(
      processService({
        command: `if [ -e "broken-$PORT" ]; then echo down; exit 1; fi; exec sleep 600`,
        cwd: dataDir,
        basePort,
        replicas: 2,
        env: { DECKHAND_TEST_SERVICE: mark.split('=')[1]! },
      }),
    )
    writeFileSync(broken, '')
    const first = pidRecords(dataDir, service.name).find((r) => r.index === 0)
    assert.ok(first)
    process.kill(first.pid, 'SIGKILL')
    await waitFor(async () => (await driver.inspect(service)).items[0]?.state === 'crashed', {
      what: 'replica 0 crash-looping, its restart timer armed',
    })
    // Fixed now; its timer (at most 400 ms) fires during the new replica's 1 s health wait.
    rmSync(broken)
    const restartsBefore = events.filter((e) => e.includes('restarting in')).length
    const outcome = await driver.scale(service, 1, NO_CHANGE, makeContext().ctx)
    assert.deepEqual(outcome, { state: 'succeeded', replicas: 1 })
    assert.equal(processesWith(mark).length, 1, 'only the new replica 0 runs')
    assert.deepEqual(
      pidRecords(dataDir, service.name).map((r) => r.pid),
      processesWith(mark),
      'the one pid file names it',
    )
    assert.equal(
      events.filter((e) => e.includes('restarting in')).length,
      restartsBefore,
      'no restart was scheduled for a replaced or removed replica',
    )
  })

  test('a scale whose new replica fails gives the crash-looping one back to its restarts', async (t) => {
    const { driver, events, attach } = await setUp(t)
    const service = await attach(processService({ command: 'echo crashing; exit 7' }))
    await waitFor(async () => (await driver.inspect(service)).items[0]?.state === 'crashed', {
      what: 'replica 0 crash-looping',
    })
    const outcome = await driver.scale(service, 1, NO_CHANGE, makeContext().ctx)
    assert.equal(outcome.state, 'failed')
    const after = events.length
    await waitFor(() => events.slice(after).some((e) => e.includes('restarting in')), {
      what: 'replica 0 restarting again after the failed scale',
    })
  })

  test('a restarted Deckhand adopts live replicas instead of starting new ones, and watches them', async (t) => {
    const { dataDir, driver: first, undo } = await setUp(t)
    const service = processService({ command: 'exec sleep 600', replicas: 2 })
    await first.attach(service)
    const pids = pidRecords(dataDir, service.name)
      .map((r) => r.pid)
      .sort()
    await first.close()

    const second = new ProcessDriver({ dataDir, supervision: { initialBackoffMs: 50, pollMs: 50 } })
    undo.push(() => second.detach(service))
    await second.attach(service)
    assert.deepEqual(
      pidRecords(dataDir, service.name)
        .map((r) => r.pid)
        .sort(),
      pids,
      'same processes',
    )
    assert.equal((await second.inspect(service)).replicas, 2)

    // Not its child: the second driver notices the exit by polling, then restarts the replica.
    process.kill(pids[0]!, 'SIGKILL')
    await waitFor(
      () => {
        const now = pidRecords(dataDir, service.name).map((r) => r.pid)
        return now.length === 2 && !now.includes(pids[0]!)
      },
      { what: 'the killed replica to be restarted' },
    )
  })

  test('a pid file whose process started at another time is not adopted, and that process is left alone', async (t) => {
    const { dataDir, driver, undo } = await setUp(t)
    const service = processService({ command: 'exec sleep 600' })
    const dir = join(dataDir, 'process', service.name)
    await driver.attach(service)
    const [record] = pidRecords(dataDir, service.name)
    assert.ok(record)
    await driver.close()
    process.kill(record.pid, 'SIGKILL')
    await waitFor(
      () => readProcStat(record.pid) === undefined || readProcStat(record.pid)?.state === 'Z',
    )
    // The pid now names this test process: a reused pid, with another start time.
    const reused = { ...record, pid: process.pid }
    writeFileSync(
      join(dir, `replica-${record.index}-g${record.generation}.pid`),
      JSON.stringify(reused),
    )

    const next = new ProcessDriver({ dataDir })
    undo.push(() => next.detach(service))
    await next.attach(service)
    const [fresh] = pidRecords(dataDir, service.name)
    assert.ok(
      fresh && fresh.pid !== process.pid && fresh.pid !== record.pid,
      'a new replica was started',
    )
  })

  test('scale starts new replicas and stops the highest index first', async (t) => {
    const { driver, attach } = await setUp(t)
    const service = await attach(processService({ command: 'exec sleep 600' }))
    const up = await driver.scale(service, 3, NO_CHANGE, makeContext().ctx)
    assert.deepEqual(up, { state: 'succeeded', replicas: 3 })
    const down = await driver.scale({ ...service, replicas: 3 }, 1, NO_CHANGE, makeContext().ctx)
    assert.deepEqual(down, { state: 'succeeded', replicas: 1 })
    assert.deepEqual(
      (await driver.inspect({ ...service, replicas: 1 })).items.map((i) => i.id),
      [`${service.name}-0`],
    )
  })

  test('a replica that ignores SIGTERM is killed after stopGrace', async (t) => {
    const { dataDir, driver, undo } = await setUp(t)
    const ignore = `process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)`
    const command = `exec "${process.execPath}" -e "${ignore}"`
    const service = processService({ command, stopGrace: '300ms' })
    await driver.attach(service)
    undo.push(() => driver.detach(service))
    const [record] = pidRecords(dataDir, service.name)
    assert.ok(record)
    // Node installs the handler a moment after it starts; a SIGTERM before that would kill it.
    const log = join(dataDir, 'process', service.name, `replica-0-g${record.generation}.log`)
    await waitFor(() => readFileSync(log, 'utf8').includes('ready'), { what: 'the handler' })
    const started = Date.now()
    await driver.detach(service)
    const tookMs = Date.now() - started
    assert.equal(readProcStat(record.pid), undefined)
    assert.ok(tookMs >= 300 && tookMs < 3000, `stopped after ${tookMs} ms`)
  })

  test('checkTarget names the field that is wrong', () => {
    const driver = new ProcessDriver({ dataDir: tmpdir() })
    assert.deepEqual(
      driver.checkTarget({ command: 'x', basePort: 4100, health: { http: '/healthz' } }),
      [],
    )
    assert.match(
      driver.checkTarget({ command: 'x', health: { tcp: true } }).join('\n'),
      /target\.basePort must be set/,
    )
    assert.match(driver.checkTarget({ command: '' }).join('\n'), /target\.command/)
    assert.match(
      driver.checkTarget({ command: 'x', stopGrace: 'later' }).join('\n'),
      /target\.stopGrace/,
    )
    assert.match(
      driver.checkTarget({ command: 'x', health: { runningFor: 'x' } }).join('\n'),
      /target\.health\.runningFor/,
    )
  })
})
