/** Migration 0002 on a database that 0001 made and used: what it carries over and renames. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'

import { listMigrations } from './sqlite-migrate.ts'
import { SqliteStore } from './sqlite-store.ts'

test('0002 takes existing services to run what their row says and renames live duplicate trigger names', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'deckhand-migrate-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'deckhand.db')
  const old = new DatabaseSync(file)
  const [first] = listMigrations()
  old.exec(first!.sql)
  old.exec(
    'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  )
  old
    .prepare("INSERT INTO schema_migrations VALUES (1, ?, '2026-01-01T00:00:00Z')")
    .run(first!.name)
  const spec = {
    target: { command: 'python3 -m http.server', env: { A: '1' } },
    image: null,
    scale: { min: 0, max: 3 },
  }
  old
    .prepare(
      "INSERT INTO services (name, driver, spec, created_at, updated_at) VALUES ('web', 'process', ?, 'x', 'x')",
    )
    .run(JSON.stringify(spec))
  const trigger = old.prepare(
    "INSERT INTO triggers (id, service, stack, token_hash, options, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, 'x', ?)",
  )
  const options = (name: string) => JSON.stringify({ name, action: 'redeploy' })
  trigger.run('trg_0000000000aaaaaaaa', 'web', null, 'h1', options('hub'), null)
  trigger.run('trg_0000000000bbbbbbbb', 'web', null, 'h2', options('hub'), null)
  trigger.run('trg_0000000000cccccccc', 'web', null, null, options('hub'), 'x')
  trigger.run('trg_0000000000dddddddd', null, 'shop', 'h4', options('hub'), null)
  old.close()

  const store = new SqliteStore(file)
  t.after(() => store.close())
  await store.migrate()
  assert.deepEqual((await store.getService('web'))?.deployed, { target: spec.target, image: null })
  const names = async (owner: { service?: string; stack?: string }) =>
    (await store.listTriggers(owner, { limit: 10 }, { includeRevoked: true })).items.map((t) => [
      t.id,
      t.name,
    ])
  assert.deepEqual(await names({ service: 'web' }), [
    ['trg_0000000000cccccccc', 'hub'],
    ['trg_0000000000bbbbbbbb', 'hub-bbbbbbbb'],
    ['trg_0000000000aaaaaaaa', 'hub'],
  ])
  assert.deepEqual(await names({ stack: 'shop' }), [['trg_0000000000dddddddd', 'hub']])
})
