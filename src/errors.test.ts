import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'

import { ERROR_CODES } from './errors.ts'

test('every error code has its section in docs/errors.md with the same status, and no section is stale', () => {
  const docs = readFileSync(join(import.meta.dirname, '..', 'docs', 'errors.md'), 'utf8')
  const documented = new Map(
    [...docs.matchAll(/^## (DH_ERR_[A-Z_]+)\n\nHTTP (\d+)\./gm)].map((m) => [m[1], Number(m[2])]),
  )
  for (const [code, status] of Object.entries(ERROR_CODES)) {
    assert.equal(documented.get(code), status, `${code} is documented with HTTP ${status}`)
  }
  assert.deepEqual([...documented.keys()].sort(), Object.keys(ERROR_CODES).sort())
})
