/**
 * The store backends a suite runs on, so store, queue and API tests cover SQLite and PostgreSQL.
 *
 * The rule:
 * - DECKHAND_TEST_STORES (comma list, default `sqlite,postgres`) names the backends to run on;
 *   a backend left out of it is "named out" and not tried at all.
 * - A backend that cannot be reached FAILS its tests when it is required: named in
 *   DECKHAND_TEST_REQUIRE, or named explicitly in DECKHAND_TEST_STORES (you asked for it).
 * - Otherwise (only there by default) it is skipped LOUDLY: its `skip` carries the reason, which
 *   the test reporter prints, and a warning line goes to stderr. Never silently.
 *
 * The black-box API suites follow the same rule without a loop of their own:
 * test/e2e/api-postgres.test.ts reruns them in a child process with DECKHAND_TEST_STORE=postgres,
 * which startTestServer (test/support/start-server.ts) honours; test/e2e/cluster.test.ts asks
 * here whether PostgreSQL runs, is skipped or must fail.
 *
 * Use:
 *   for (const backend of await testStores()) {
 *     describe(`hooks on ${backend.name}`, { skip: backend.skip }, () => { … backend.open() … })
 *   }
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'

import { PostgresStore } from '../../src/store/postgres/postgres-store.ts'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import type { Store } from '../../src/store/store.ts'
import { freshPostgresUrl, isRequired, postgresAvailable } from './postgres-cluster.ts'

export const STORE_BACKENDS = ['sqlite', 'postgres'] as const
export type StoreBackend = (typeof STORE_BACKENDS)[number]

export interface TestStore {
  name: StoreBackend
  /** False when the backend runs; else the reason it is skipped, for the suite's `skip` option. */
  skip: false | string
  /** Opens a fresh, migrated store on an empty database; the caller closes it. */
  open: () => Promise<Store>
}

let sqliteDir: string | undefined
let sqliteCount = 0

after(() => {
  if (sqliteDir) {
    rmSync(sqliteDir, { recursive: true, force: true })
  }
})

/** The backends named by DECKHAND_TEST_STORES, each reachable, skipped loudly, or failing. */
export async function testStores(): Promise<TestStore[]> {
  const named = process.env.DECKHAND_TEST_STORES
  const wanted = (named ?? STORE_BACKENDS.join(','))
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)
  const unknown = wanted.filter((name) => !(STORE_BACKENDS as readonly string[]).includes(name))
  if (unknown.length) {
    throw new Error(
      `DECKHAND_TEST_STORES names unknown backends: ${unknown.join(', ')}; use ${STORE_BACKENDS.join(',')}`,
    )
  }
  const stores: TestStore[] = []
  for (const name of wanted as StoreBackend[]) {
    const required = isRequired(name) || named !== undefined
    stores.push(name === 'sqlite' ? sqliteStore() : await postgresStore(required))
  }
  return stores
}

function sqliteStore(): TestStore {
  return {
    name: 'sqlite',
    skip: false,
    // A real file, not :memory:, because durability is the product.
    open: async () => {
      sqliteDir ??= mkdtempSync(join(tmpdir(), 'deckhand-sqlite-'))
      const store = new SqliteStore(join(sqliteDir, `store-${++sqliteCount}.db`))
      await store.migrate()
      return store
    },
  }
}

async function postgresStore(required: boolean): Promise<TestStore> {
  const available = await postgresAvailable()
  if (!available.ok) {
    const reason = `PostgreSQL unavailable: ${available.reason}`
    if (required) {
      // Every test that opens it fails with the reason: a required backend never skips.
      return {
        name: 'postgres',
        skip: false,
        open: () =>
          Promise.reject(
            new Error(`${reason} (required by DECKHAND_TEST_REQUIRE or DECKHAND_TEST_STORES)`),
          ),
      }
    }
    process.stderr.write(`\nWARNING: skipping the postgres store tests. ${reason}\n\n`)
    return { name: 'postgres', skip: reason, open: () => Promise.reject(new Error(reason)) }
  }
  return {
    name: 'postgres',
    skip: false,
    open: async () => new PostgresStore(await freshPostgresUrl()),
  }
}
