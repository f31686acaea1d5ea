/**
 * Starts a real Deckhand server in this process on a free 127.0.0.1 port, with a temp data
 * dir, a known admin token and every log line captured (tests check them for secrets).
 * The store is SQLite unless DECKHAND_TEST_STORE names PostgreSQL (see `testServerStore`).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import type { TestContext } from 'node:test'

import pino from 'pino'

import { readSettings, type ServerSettings } from '../../src/server/settings.ts'
import { type RunningServer, startServer } from '../../src/server/start-server.ts'
// Imported statically: the cluster's `after` hook must belong to the file, not to the first
// test that happens to start a PostgreSQL-backed server.
import { freshPostgresUrl } from './postgres-cluster.ts'
import { STORE_BACKENDS, type StoreBackend } from './test-stores.ts'

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef0123456789ab'

export interface TestServer extends Omit<RunningServer, 'close'> {
  /** Deletes every service (stopping process replicas) unless `keepServices`, then stops the server. */
  close(options?: { keepServices?: boolean }): Promise<void>
  token: string
  dataDir: string
  /** Every structured log line the server wrote, as text. */
  logs: string[]
  /** Calls the admin API with the admin token; answers status and parsed body. */
  api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>
  /** POSTs to a trigger URL. */
  hook(
    url: string,
    init?: { body?: string | Buffer; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Headers }>
}

/** A server on `overrides.dataDir` (kept on close) restarts on the same state; else a temp dir is made and removed. */
export async function startTestServer(
  t: TestContext | undefined,
  overrides: Partial<ServerSettings> & { env?: Record<string, string> } = {},
): Promise<TestServer> {
  const ownsDataDir = overrides.dataDir === undefined
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'deckhand-test-'))
  const logs: string[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk))
      done()
    },
  })
  const { env, ...rest } = overrides
  const database = env?.DECKHAND_DATABASE_URL ? {} : await testDatabase(dataDir)
  const settings: ServerSettings = {
    ...readSettings({
      DECKHAND_DATA_DIR: dataDir,
      DECKHAND_LISTEN: '127.0.0.1:0',
      DECKHAND_ADMIN_TOKEN: ADMIN_TOKEN,
      ...database,
      ...env,
    }),
    announce: (text) => logs.push(text),
    leaseMs: 5000,
    shutdownGraceMs: 2000,
    ...rest,
  }
  const server = await startServer(settings, pino({ level: 'debug' }, sink))
  const api: TestServer['api'] = async (method, path, body) => {
    const response = await fetch(`${server.url}${path}`, {
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
  const hook: TestServer['hook'] = async (url, init = {}) => {
    const response = await fetch(url, {
      method: 'POST',
      body: init.body as BodyInit | undefined,
      headers: init.headers,
    })
    const text = await response.text()
    let parsed: unknown = text
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      // Non-JSON answers (405, 413 from the framework) are compared as text.
    }
    return { status: response.status, body: parsed, headers: response.headers }
  }
  let closed: Promise<void> | undefined
  // Process replicas outlive a server by design; tests stop them unless they mean to adopt them.
  const close = (options: { keepServices?: boolean } = {}) =>
    (closed ??= (async () => {
      if (!options.keepServices) {
        const services = await api('GET', '/api/v1/services?limit=1000')
        for (const service of services.body?.items ?? []) {
          await api('DELETE', `/api/v1/services/${service.name}`)
        }
      }
      await server.close()
      if (ownsDataDir) {
        rmSync(dataDir, { recursive: true, force: true })
      }
    })())
  t?.after(() => close())
  return { ...server, close, token: ADMIN_TOKEN, dataDir, logs, api, hook }
}

/**
 * The backend of every server `startTestServer` starts in this process: DECKHAND_TEST_STORE,
 * which the store matrix (test/e2e/api-postgres.test.ts) sets when it reruns the API suites on
 * PostgreSQL in a child process; SQLite, the default, otherwise. A test that passes its own
 * DECKHAND_DATABASE_URL in `env` keeps it.
 */
export function testServerStore(): StoreBackend {
  const named = process.env.DECKHAND_TEST_STORE?.trim() || 'sqlite'
  if (!(STORE_BACKENDS as readonly string[]).includes(named)) {
    throw new Error(
      `DECKHAND_TEST_STORE must be one of ${STORE_BACKENDS.join(', ')}; got ${JSON.stringify(named)}`,
    )
  }
  return named as StoreBackend
}

// A server restarted on the same dataDir finds the same PostgreSQL database, as it would its
// SQLite file: the restart tests mean "the same state".
const postgresByDataDir = new Map<string, string>()

async function testDatabase(dataDir: string): Promise<{ DECKHAND_DATABASE_URL?: string }> {
  if (testServerStore() === 'sqlite') {
    return {}
  }
  let url = postgresByDataDir.get(dataDir)
  if (!url) {
    url = await freshPostgresUrl()
    postgresByDataDir.set(dataDir, url)
  }
  return { DECKHAND_DATABASE_URL: url }
}

/** A command service whose redeploy runs `script`; the default succeeds at once. */
export function commandService(
  name: string,
  script = 'echo deployed',
  extra: Record<string, unknown> = {},
) {
  return {
    name,
    driver: 'command',
    target: { redeploy: script, scale: 'echo scaled to $DECKHAND_REPLICAS' },
    replicas: 1,
    scale: { min: 1, max: 3 },
    ...extra,
  }
}
