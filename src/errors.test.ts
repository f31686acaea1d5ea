import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
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

test('every error code is raised somewhere: a code nothing answers with is dead weight in the catalogue', () => {
  const src = import.meta.dirname
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter(
    (file) => /\.tsx?$/.test(file) && !file.endsWith('.test.ts') && file !== 'errors.ts',
  )
  const code = files.map((file) => readFileSync(join(src, file), 'utf8')).join('\n')
  // errors.ts's own helpers (notFound, invalid, conflict, storeUnavailable) raise theirs.
  const helpers = readFileSync(join(src, 'errors.ts'), 'utf8').split('export const ERROR_CODES')[1]!
  const raised = `${code}\n${helpers.slice(helpers.indexOf('} as const'))}`
  const unused = Object.keys(ERROR_CODES).filter((name) => !raised.includes(`'${name}'`))
  assert.deepEqual(unused, [])
})
