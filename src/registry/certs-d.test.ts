/** certs.d lookups: `*.crt` of the host's own directory, and never a path out of the directory. */
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { certsDirCa } from './certs-d.ts'

test("a host's *.crt files are read by name, other files and hosts that are paths are not", async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'dh-certs-d-'))
  t.after(() => rm(root, { recursive: true, force: true }))
  const dir = join(root, 'certs.d')
  await mkdir(join(dir, 'registry.example:5000'), { recursive: true })
  await writeFile(join(dir, 'registry.example:5000', 'ca.crt'), 'A')
  await writeFile(join(dir, 'registry.example:5000', 'b.crt'), 'B')
  await writeFile(join(dir, 'registry.example:5000', 'client.key'), 'secret key')
  await mkdir(join(root, 'outside'))
  await writeFile(join(root, 'outside', 'ca.crt'), 'outside')

  assert.deepEqual(await certsDirCa(dir, 'registry.example:5000'), ['B', 'A'])
  assert.deepEqual(await certsDirCa(dir, 'other.example'), [])
  assert.deepEqual(await certsDirCa(join(root, 'missing'), 'registry.example:5000'), [])
  for (const host of ['../outside', '..', 'a/../../outside', '.']) {
    assert.deepEqual(await certsDirCa(dir, host), [], host)
  }
})
