/** Runs the store contract against SQLite on a real file in a temp dir. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'

import { runStoreContract } from '../store-contract.ts'
import { SqliteStore } from './sqlite-store.ts'

const dir = mkdtempSync(join(tmpdir(), 'deckhand-sqlite-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

runStoreContract('sqlite', {
  open: async () => {
    const store = new SqliteStore(join(dir, `store-${++n}.db`))
    await store.migrate()
    return store
  },
})
