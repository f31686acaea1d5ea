/** The WAL flush that makes SQLite commits durable: it settles, and says when it cannot. */
import assert from 'node:assert/strict'
import { fsync, mkdtempSync, rmSync } from 'node:fs'
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
    const answered: number[] = []
    const flushes: Promise<void>[] = []
    for (let n = 0; n < 50; n++) {
      db.exec(`INSERT INTO t VALUES (${n})`)
      flushes.push(wal.sync().then(() => void answered.push(n)))
    }
    await Promise.all(flushes)
    assert.equal(answered.length, 50)
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

test('a caller who asks while a flush is in flight waits for the next flush, shared by all who asked meanwhile', async () => {
  const path = join(dir, 'c.db')
  const db = openSqliteDatabase(path)
  db.exec('CREATE TABLE t (n INTEGER)')
  // Flushes are held until the test lets them finish, one by one, in order.
  const held: (() => void)[] = []
  const wal = new WalSync(
    path,
    ((fd: number, done: (error: Error | null) => void) =>
      void held.push(() => fsync(fd, done))) as typeof fsync,
  )
  try {
    const answered: string[] = []
    const first = wal.sync().then(() => void answered.push('first'))
    // Committed while the first flush runs: that flush may have missed these commits.
    const later = [wal.sync(), wal.sync(), wal.sync()].map((p, i) =>
      p.then(() => void answered.push(`later ${i}`)),
    )
    assert.equal(held.length, 1)
    held.shift()!()
    await first
    assert.deepEqual(answered, ['first'])
    // The first flush's end starts one more, for all three who asked during it.
    assert.equal(held.length, 1)
    held.shift()!()
    await Promise.all(later)
    assert.deepEqual(answered, ['first', 'later 0', 'later 1', 'later 2'])
    assert.equal(held.length, 0)
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
