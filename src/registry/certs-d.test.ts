/**
 * certs.d lookups: `*.crt` of the host's own directory, a `*.cert` with its `*.key`, and never
 * a path out of the directory.
 */
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'

import { readCertsDir } from './certs-d.ts'

async function certsD(t: TestContext, files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'dh-certs-d-'))
  t.after(() => rm(root, { recursive: true, force: true }))
  const dir = join(root, 'certs.d')
  await mkdir(join(dir, 'registry.example:5000'), { recursive: true })
  for (const [name, text] of Object.entries(files)) {
    await writeFile(join(dir, 'registry.example:5000', name), text)
  }
  await mkdir(join(root, 'outside'))
  await writeFile(join(root, 'outside', 'ca.crt'), 'outside')
  return dir
}

test("a host's *.crt files are read by name, other files and hosts that are paths are not", async (t) => {
  const dir = await certsD(t, { 'ca.crt': 'A', 'b.crt': 'B', 'notes.txt': 'no' })

  const read = await readCertsDir(dir, 'registry.example:5000')
  assert.deepEqual(read.ca, ['B', 'A'])
  assert.equal(read.clientCertificate, null)
  assert.deepEqual((await readCertsDir(dir, 'other.example')).ca, [])
  assert.deepEqual((await readCertsDir(join(dir, '..', 'missing'), 'registry.example:5000')).ca, [])
  for (const host of ['../outside', '..', 'a/../../outside', '.']) {
    assert.deepEqual((await readCertsDir(dir, host)).ca, [], host)
  }
})

test('a *.cert with the *.key of its name is the client certificate, the first by name', async (t) => {
  const dir = await certsD(t, {
    'ca.crt': 'CA',
    'client.cert': 'CERT',
    'client.key': 'KEY',
    'other.cert': 'CERT2',
    'other.key': 'KEY2',
  })

  const read = await readCertsDir(dir, 'registry.example:5000')
  assert.deepEqual(read.ca, ['CA'])
  assert.deepEqual(read.clientCertificate, {
    cert: 'CERT',
    key: 'KEY',
    file: join(dir, 'registry.example:5000', 'client.cert'),
  })
})

test('a *.cert without its *.key, or a *.key without its *.cert, is refused naming the file', async (t) => {
  const lonelyCert = await certsD(t, { 'client.cert': 'CERT' })
  await assert.rejects(
    readCertsDir(lonelyCert, 'registry.example:5000'),
    (error: Error) =>
      error.message.includes(join(lonelyCert, 'registry.example:5000', 'client.cert')) &&
      error.message.includes('has no client.key') &&
      !error.message.includes('CERT'),
  )
  const lonelyKey = await certsD(t, { 'client.key': 'secret key' })
  await assert.rejects(
    readCertsDir(lonelyKey, 'registry.example:5000'),
    (error: Error) =>
      error.message.includes('client.key has no client.cert') &&
      !error.message.includes('secret key'),
  )
})
