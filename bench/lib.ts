/**
 * Shared parts of the benchmark: the servers under test as child processes (Deckhand through
 * `deckhand serve`, the bare node:http ceiling, adnanh/webhook), the admin API, and wrk.
 * Everything listens on 127.0.0.1 only, and every load run is bounded in time or count.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'

export const ROOT = join(import.meta.dirname, '..')
/**
 * Deckhand is started as users start it, through bin/deckhand (which sets its V8 flags).
 * BENCH_DECKHAND=/other/checkout/bin/deckhand measures another checkout (before/after comparisons).
 */
export const BIN = process.env.BENCH_DECKHAND ?? join(ROOT, 'bin', 'deckhand')
export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef0123456789abcd'
/** Accepts any number of calls: the default 600/min would answer 429 under load. */
export const UNLIMITED_RATE = '1000000000/s'

export interface Settings {
  quick: boolean
  /** Seconds of measured load per wrk run (15 s, 5 s with --quick). */
  seconds: number
  warmupSeconds: number
  connections: number
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/** Installs a Debian package when its binary is missing (the bench runs as root on the farm). */
export function ensureTool(binary: string, pkg: string): string {
  const found = which(binary)
  if (found) {
    return found
  }
  process.stderr.write(`bench: ${binary} not found; installing Debian package ${pkg}\n`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  try {
    execFileSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'inherit', env })
  } catch {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
    execFileSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'inherit', env })
  }
  const installed = which(binary)
  if (!installed) {
    throw new Error(`bench: ${pkg} installed but ${binary} is still not on PATH`)
  }
  return installed
}

function which(binary: string): string | undefined {
  try {
    return (
      execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim() || undefined
    )
  } catch {
    return undefined
  }
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `deckhand-bench-${prefix}-`))
}

/** Resident and peak resident memory of a process, in MB, from /proc. */
export function memoryOf(pid: number): { rssMb: number; peakRssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0)
  return { rssMb: Math.round(kb('VmRSS') / 1024), peakRssMb: Math.round(kb('VmHWM') / 1024) }
}

/** CPU seconds (user + system) a process has used so far, from /proc (clock ticks of 100 Hz). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** Runs `load` and adds the server's CPU time per answered call, steadier than calls/s on a busy machine. */
export async function withCpu<T extends { requests: number }>(
  pid: number,
  load: () => Promise<T>,
): Promise<T & { serverCpuUsPerCall: number }> {
  const before = cpuSecondsOf(pid)
  const result = await load()
  const used = cpuSecondsOf(pid) - before
  return { ...result, serverCpuUsPerCall: Math.round((used * 1e6) / Math.max(1, result.requests)) }
}

export interface Child {
  url: string
  pid: number
  child: ChildProcess
  stop(): Promise<void>
}

async function waitUntilUp(
  url: string,
  child: ChildProcess,
  what: string,
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(
        `${what} exited with ${child.exitCode}: ${readFileSync(logFile, 'utf8').slice(-2000)}`,
      )
    }
    const answer = await fetch(url).catch(() => undefined)
    if (answer) {
      await answer.body?.cancel()
      return
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} did not answer ${url} within 30 s`)
    }
    await delay(50)
  }
}

/** Runs `command` with its output in `logFile`, and waits until `probe` answers at all. */
export async function startChild(
  what: string,
  command: string,
  args: string[],
  options: { env?: Record<string, string>; port: number; probe: string; logFile: string },
): Promise<Child> {
  const out = openSync(options.logFile, 'a')
  const child = spawn(command, args, {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', out, out],
  })
  closeSync(out)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = `http://127.0.0.1:${options.port}`
  await waitUntilUp(`${url}${options.probe}`, child, what, options.logFile)
  return {
    url,
    pid: child.pid!,
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await exited
        clearTimeout(timer)
      }
    },
  }
}

export interface Deckhand extends Child {
  dataDir: string
  api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>
}

/** `deckhand serve` on SQLite in `dataDir`, as a separate process; its log goes to a file there. */
export async function startDeckhand(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<Deckhand> {
  const port = await freePort()
  const child = await startChild('deckhand serve', BIN, ['serve'], {
    port,
    probe: '/healthz',
    logFile: join(dataDir, 'server.log'),
    env: {
      DECKHAND_DATA_DIR: dataDir,
      DECKHAND_LISTEN: `127.0.0.1:${port}`,
      DECKHAND_ADMIN_TOKEN: ADMIN_TOKEN,
      DECKHAND_DRIVERS: 'process,command',
      DECKHAND_SHUTDOWN_GRACE_MS: '1000',
      ...env,
    },
  })
  const api: Deckhand['api'] = async (method, path, body) => {
    const response = await fetch(`${child.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    return { status: response.status, body: text ? JSON.parse(text) : undefined }
  }
  return { ...child, dataDir, api }
}

/** Creates a service and one trigger on it; answers the trigger's id and its path (`/hooks/<token>`). */
export async function serviceWithTrigger(
  deckhand: Deckhand,
  service: Record<string, unknown>,
  trigger: Record<string, unknown> = { action: 'redeploy', rateLimit: UNLIMITED_RATE },
): Promise<{ id: string; path: string }> {
  const created = await deckhand.api('POST', '/api/v1/services', service)
  if (created.status !== 201) {
    throw new Error(
      `creating service ${String(service.name)}: ${created.status} ${JSON.stringify(created.body)}`,
    )
  }
  const made = await deckhand.api(
    'POST',
    `/api/v1/services/${String(service.name)}/triggers`,
    trigger,
  )
  if (made.status !== 201) {
    throw new Error(`creating a trigger: ${made.status} ${JSON.stringify(made.body)}`)
  }
  return { id: made.body.id, path: new URL(made.body.url).pathname }
}

export function commandService(name: string, redeploy: string): Record<string, unknown> {
  return { name, driver: 'command', target: { redeploy, timeout: '10m' } }
}

/** Every item of an admin listing, following `next`. */
export async function listAll(
  deckhand: Deckhand,
  path: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = []
  let cursor: string | null = null
  do {
    const sep = path.includes('?') ? '&' : '?'
    const page: {
      status: number
      body: { items: Record<string, unknown>[]; next: string | null }
    } = await deckhand.api(
      'GET',
      `${path}${sep}limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    )
    if (page.status !== 200) {
      throw new Error(`GET ${path}: ${page.status}`)
    }
    items.push(...page.body.items)
    cursor = page.body.next
  } while (cursor)
  return items
}

export interface LoadResult {
  tool: string
  connections: number
  seconds: number
  requests: number
  callsPerSecond: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
  maxMs: number
  non2xx: number
  socketErrors: number
  /** Answers by status, when post.lua counted them (BENCH_COUNT_STATUS). */
  statuses?: Record<string, number>
}

/** wrk: one thread (the server keeps the other core), POSTs of bench/post.lua's ~1 KB JSON body. */
export function runWrk(
  url: string,
  settings: { connections: number; seconds: number },
  env: Record<string, string> = {},
): Promise<LoadResult> {
  const args = [
    '-t1',
    `-c${settings.connections}`,
    `-d${settings.seconds}s`,
    '--timeout',
    '10s',
    '--latency',
    '-s',
    join(import.meta.dirname, 'post.lua'),
    url,
  ]
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.once('error', reject)
    child.once('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`wrk exited with ${code}:\n${out}`))
        return
      }
      try {
        resolve({ ...parseWrk(out), connections: settings.connections, seconds: settings.seconds })
      } catch (error) {
        reject(error)
      }
    })
  })
}

function wrkDurationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim())
  if (!match) {
    throw new Error(`wrk: cannot read the duration ${JSON.stringify(text)}`)
  }
  const value = Number(match[1])
  return match[2] === 'us'
    ? value / 1000
    : match[2] === 'ms'
      ? value
      : match[2] === 's'
        ? value * 1000
        : value * 60_000
}

export function parseWrk(out: string): Omit<LoadResult, 'connections' | 'seconds'> {
  const percentile = (p: number) => {
    const match = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out)
    if (!match) {
      throw new Error(`wrk printed no ${p}th percentile:\n${out}`)
    }
    return wrkDurationMs(match[1]!)
  }
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN)
  const rate = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN)
  const maxMatch = /^\s+Latency\s+\S+\s+\S+\s+(\S+)/m.exec(out)
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  const counted = /^statuses (.*)$/m.exec(out)?.[1]
  const statuses =
    counted === undefined
      ? undefined
      : Object.fromEntries(
          counted
            .split(',')
            .filter(Boolean)
            .map((pair) => {
              const [status, n] = pair.split('=')
              return [status!, Number(n)]
            }),
        )
  return {
    tool: 'wrk',
    requests,
    callsPerSecond: Math.round(rate),
    p50Ms: percentile(50),
    p90Ms: percentile(90),
    p99Ms: percentile(99),
    maxMs: maxMatch ? wrkDurationMs(maxMatch[1]!) : NaN,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    socketErrors: errors ? errors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
    ...(statuses ? { statuses } : {}),
  }
}

/** A short pause between load runs: the machine is shared, and heavy runs should not be back-to-back. */
export function breather(quick: boolean): Promise<void> {
  return delay(quick ? 1000 : 3000)
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) {
    return NaN
  }
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
}

export const round = (n: number, digits = 2): number => Number(n.toFixed(digits))
