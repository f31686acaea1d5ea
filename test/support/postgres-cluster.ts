/**
 * A private PostgreSQL cluster per test process: started on first use, migrated once into a
 * template database, then copied into a fresh database for each caller; stopped and deleted
 * when the process's tests end.
 *
 * How it starts (as root, initdb and postgres refuse to run as root, so they run as the
 * `postgres` OS user through runuser):
 *   initdb -D <tmp>/data -U postgres --auth=trust -E UTF8 --locale=C --no-sync
 *   pg_ctl -D <tmp>/data -l <tmp>/server.log -w -t 60 start -o "-c listen_addresses=127.0.0.1
 *     -p <free port> -c unix_socket_directories=<tmp> -c fsync=on -c synchronous_commit=on"
 * `--no-sync` only skips initdb's own final flush of a throwaway directory; the server runs
 * with fsync on, as in production, so commit timings are honest. Trust auth is bound to
 * 127.0.0.1 of a cluster that lives for one test process.
 *
 * Environment:
 *   DECKHAND_TEST_POSTGRES_URL  use that server (a role that may CREATE DATABASE) instead
 *   DECKHAND_TEST_PG_BIN        the directory holding initdb and pg_ctl; default: the newest
 *                               /usr/lib/postgresql/<version>/bin, else PATH
 *   DECKHAND_TEST_REQUIRE       comma list; when it names `postgres`, a cluster that cannot
 *                               start fails the tests instead of skipping them
 */
import { execFile, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import { promisify } from 'node:util'

import pg from 'pg'

import { PostgresStore } from '../../src/store/postgres/postgres-store.ts'

const run = promisify(execFile)

export type Availability = { ok: true; startMs: number } | { ok: false; reason: string }

interface Cluster {
  /** A URL of the maintenance database, for CREATE and DROP DATABASE. */
  adminUrl: string
  template: string
  startMs: number
  /** True for a server named by DECKHAND_TEST_POSTGRES_URL, which outlives the tests. */
  external: boolean
  stop: () => void
}

let starting: Promise<Cluster> | undefined
let cluster: Cluster | undefined
const databases = new Set<string>()
let counter = 0
let spare: Promise<string> | undefined

/** True when DECKHAND_TEST_REQUIRE names the backend: then it must run, never skip. */
export { isRequired } from './required-parts.ts'

/** Starts the cluster once per process; says why not when it cannot. */
export async function postgresAvailable(): Promise<Availability> {
  try {
    const ready = await ensureCluster()
    return { ok: true, startMs: ready.startMs }
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) }
  }
}

/**
 * The URL of the cluster's maintenance database, for a child test process to share this
 * cluster (as its DECKHAND_TEST_POSTGRES_URL) instead of starting one of its own.
 */
export async function postgresServerUrl(): Promise<string> {
  return (await ensureCluster()).adminUrl
}

/**
 * A new database for the caller: a copy of the migrated template, or an empty one when
 * `migrated` is false (for migration tests). Gone when the process's tests end.
 */
export async function freshPostgresUrl(options: { migrated?: boolean } = {}): Promise<string> {
  const ready = await ensureCluster()
  if (options.migrated === false) {
    return withDatabase(ready.adminUrl, await createDatabase(ready, 'template0'))
  }
  // A copy costs 150-600 ms of I/O with fsync on (measured here); the next one is made while
  // the caller runs its test, so a file of many short tests rarely waits for one.
  const name = await (spare ?? createDatabase(ready, ready.template))
  spare = createDatabase(ready, ready.template)
  spare.catch(() => {}) // awaited, with its error, by the next caller or the `after` hook
  return withDatabase(ready.adminUrl, name)
}

async function createDatabase(ready: Cluster, template: string): Promise<string> {
  const name = `deckhand_${process.pid}_${++counter}`
  await admin(ready.adminUrl, `CREATE DATABASE ${name} TEMPLATE ${template}`)
  databases.add(name)
  return name
}

function ensureCluster(): Promise<Cluster> {
  starting ??= startCluster().then((ready) => (cluster = ready))
  return starting
}

async function startCluster(): Promise<Cluster> {
  const started = performance.now()
  const external = process.env.DECKHAND_TEST_POSTGRES_URL
  const base = external ? { adminUrl: external, stop: () => {} } : await startPrivateServer()
  const template = `deckhand_template_${process.pid}`
  try {
    await admin(base.adminUrl, `DROP DATABASE IF EXISTS ${template}`)
    await admin(base.adminUrl, `CREATE DATABASE ${template} TEMPLATE template0`)
    const store = new PostgresStore(withDatabase(base.adminUrl, template), { poolSize: 1 })
    try {
      await store.migrate()
    } finally {
      await store.close()
    }
  } catch (error) {
    base.stop()
    throw error
  }
  return {
    ...base,
    template,
    external: Boolean(external),
    startMs: Math.round(performance.now() - started),
  }
}

async function startPrivateServer(): Promise<{ adminUrl: string; stop: () => void }> {
  const bin = findBinDir()
  const dir = mkdtempSync(join(tmpdir(), 'deckhand-pg-'))
  const data = join(dir, 'data')
  // initdb and postgres refuse root: run them as the postgres user, who must own the dir.
  const asRoot = process.getuid?.() === 0
  const user = asRoot ? await postgresUser() : undefined
  if (user) {
    chownSync(dir, user.uid, user.gid)
  }
  const exec = (tool: string, args: string[]) =>
    user
      ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args])
      : run(join(bin, tool), args)
  let running = false
  let port = 0
  const stop = () => {
    if (running) {
      running = false
      // Immediate: the data directory is deleted next, so a clean checkpoint buys nothing.
      const pgCtl = [join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']
      spawnSync(
        user ? 'runuser' : pgCtl[0]!,
        user ? ['-u', 'postgres', '--', ...pgCtl] : pgCtl.slice(1),
      )
    }
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await exec('initdb', [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ])
    port = await freePort()
    const settings = [
      '-c listen_addresses=127.0.0.1',
      `-p ${port}`,
      `-c unix_socket_directories=${dir}`,
      '-c fsync=on',
      '-c synchronous_commit=on',
    ].join(' ')
    await exec('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      settings,
      'start',
    ])
    running = true
  } catch (error) {
    const log = existsSync(join(dir, 'server.log'))
      ? readFileSync(join(dir, 'server.log'), 'utf8').slice(-2000)
      : ''
    stop()
    const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message
    throw new Error(`PostgreSQL did not start from ${bin}: ${detail}${log ? `\n${log}` : ''}`, {
      cause: error,
    })
  }
  // If the process dies before the `after` hook, do not leave a server running behind it.
  process.once('exit', stop)
  return { adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`, stop }
}

function findBinDir(): string {
  const configured = process.env.DECKHAND_TEST_PG_BIN
  if (configured) {
    return configured
  }
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : []
  if (versions[0]) {
    return join(root, versions[0], 'bin')
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' })
  const found = which.stdout.trim()
  if (!found) {
    throw new Error(
      'no PostgreSQL server binaries (initdb) found in /usr/lib/postgresql/*/bin or PATH; ' +
        'install the postgresql package or set DECKHAND_TEST_PG_BIN or DECKHAND_TEST_POSTGRES_URL',
    )
  }
  return join(found, '..')
}

async function postgresUser(): Promise<{ uid: number; gid: number }> {
  try {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim())
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim())
    return { uid, gid }
  } catch (error) {
    throw new Error('running as root, and there is no `postgres` user to run initdb as', {
      cause: error,
    })
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      )
    })
  })
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${name}`
  return parsed.toString()
}

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

after(async () => {
  if (!cluster) {
    return
  }
  const { adminUrl, template, stop, external } = cluster
  cluster = undefined
  await spare?.catch(() => {})
  try {
    // A private cluster is deleted whole, which drops every database at once; on a shared
    // server each is dropped, FORCE-fully, so a store left open cannot keep one alive.
    if (external) {
      await Promise.all(
        [...databases, template].map((name) =>
          admin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
        ),
      )
    }
  } finally {
    databases.clear()
    stop()
  }
})
