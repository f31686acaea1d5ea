/** The process driver on real child processes: the contract, then supervision, adoption and ports. */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { get } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test, type TestContext } from 'node:test'
import { waitFor } from '../../../test/support/wait-for.ts'
import { makeContext, makeService, runDriverContract } from '../driver-contract.ts'
import type { Service } from '../../model/index.ts'
import { readProcStat } from './process-group.ts'
import { ProcessDriver } from './process-driver.ts'
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
    const rest = await Promise.all(Array.from({ length: count - 1 }, (_, i) => isPortFree(base + 1 + i)))
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
  return Object.fromEntries(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
}

/** Live processes started by this test file, found by the marker in their environment. */
function strayProcesses(): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid === process.pid) {
      continue
    }
    try {
      const stat = readProcStat(pid)
      if (stat && stat.state !== 'Z' && readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`DECKHAND_TEST_RUN=${RUN}`)) {
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
    observeEnv: async (service) => {
      const live = pidRecords(dataDir, service.name).filter((r) => r.index === 0)
      const newest = live.sort((a, b) => b.generation - a.generation)[0]
      assert.ok(newest, `service ${service.name} has a replica 0`)
      return environOf(newest.pid)
    },
    brokenRedeploy: (service) => ({
      service: { ...service, target: { ...service.target, command: 'echo "about to fail"; exit 3' } },
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
