/** DECKHAND_REGISTRY_CA: the PEM files are read at start, and a bad one stops startup by name. */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { readSettings, SettingsError } from './settings.ts'

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'

test('DECKHAND_REGISTRY_CA reads each PEM file it names and refuses one that is missing or no PEM', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dh-ca-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'a.crt'), PEM)
  await writeFile(join(dir, 'b.crt'), PEM)
  await writeFile(join(dir, 'not.crt'), 'hello')
  const base = { DECKHAND_DATA_DIR: dir }

  assert.deepEqual(readSettings(base).registryCa, [])
  const both = `${join(dir, 'a.crt')}, ${join(dir, 'b.crt')}`
  assert.deepEqual(readSettings({ ...base, DECKHAND_REGISTRY_CA: both }).registryCa, [PEM, PEM])
  assert.throws(
    () => readSettings({ ...base, DECKHAND_REGISTRY_CA: join(dir, 'missing.crt') }),
    (error: Error) =>
      error instanceof SettingsError && /missing\.crt, which cannot be read/.test(error.message),
  )
  assert.throws(
    () => readSettings({ ...base, DECKHAND_REGISTRY_CA: join(dir, 'not.crt') }),
    /not\.crt, which holds no PEM certificate/,
  )
})
