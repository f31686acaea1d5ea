/** The WAL flush that makes SQLite commits durable: it settles, and says when it cannot. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'

import { openSqliteDatabase } from './sqlite-database.ts'
import { WalSync } from './wal-sync.ts'

const dir = mkdtempSync(join(tmpdir(), 'deckhand-wal-sync-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('every caller of a flush is answered once its commit is in the WAL, however many ask at once', async () => {
  const path = join(dir, 'a.db')
  const db = openSqliteDatabase(path)
  const wal = new WalSync(path)
  try {
    db.exec('CREATE TABLE t (n INTEGER)')
    const walBytes = () => statSync(`${path}-wal`).size
    const answered: number[] = []
    const flushes: Promise<void>[] = []
    for (let n = 0; n < 50; n++) {
      db.exec(`INSERT INTO t VALUES (${n})`)
      // What the WAL held when this commit was made: a flush that answers covers at least that.
      const committed = walBytes()
      flushes.push(wal.sync().then(() => void answered.push(committed)))
    }
    await Promise.all(flushes)
    assert.equal(answered.length, 50)
    assert.ok(answered.every((bytes) => bytes <= walBytes()))
    wal.syncNow()
    const reader = openSqliteDatabase(path)
    try {
      assert.equal(reader.prepare('SELECT COUNT(*) AS n FROM t').get()?.n, 50)
    } finally {
      reader.close()
    }
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
