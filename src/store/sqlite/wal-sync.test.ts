/** The WAL flush that makes SQLite commits durable: it settles, and says when it cannot. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { openSqliteDatabase } from './sqlite-database.ts'
import { WalSync } from './wal-sync.ts'

const dir = mkdtempSync(join(tmpdir(), 'deckhand-wal-sync-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('flushes after commits settle, however many callers ask at once', async () => {
  const path = join(dir, 'a.db')
  const db = openSqliteDatabase(path)
  const wal = new WalSync(path)
  try {
    db.exec('CREATE TABLE t (n INTEGER)')
    const flushes: Promise<void>[] = []
    for (let n = 0; n < 50; n++) {
      db.exec(`INSERT INTO t VALUES (${n})`)
      flushes.push(wal.sync())
    }
    await Promise.all(flushes)
    wal.syncNow()
  } finally {
    db.close()
    wal.close()
  }
})

test('a WAL that cannot be opened rejects the flush instead of answering as if durable', async () => {
  const wal = new WalSync(join(dir, 'missing', 'b.db'))
  await assert.rejects(wal.sync(), /ENOENT/)
  assert.throws(() => wal.syncNow(), /ENOENT/)
})
