/** DECKHAND_PASS_ENV is read with the other settings, and a name that would leak a setting stops startup. */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { readSettings, SettingsError } from './settings.ts'

const base = { DECKHAND_DATA_DIR: '/tmp/deckhand-pass-env' }

test('DECKHAND_PASS_ENV becomes the settings list of names, none by default', () => {
  assert.deepEqual(readSettings(base).passEnv, [])
  assert.deepEqual(
    readSettings({ ...base, DECKHAND_PASS_ENV: ' GNUPGHOME, ,SSL_CERT_FILE ' }).passEnv,
    ['GNUPGHOME', 'SSL_CERT_FILE'],
  )
})

test('DECKHAND_PASS_ENV refuses a setting of Deckhand and a name that is not a variable name', () => {
  assert.throws(
    () => readSettings({ ...base, DECKHAND_PASS_ENV: 'HTTP_PROXY,DECKHAND_ADMIN_TOKEN' }),
    (error: Error) =>
      error instanceof SettingsError &&
      /names DECKHAND_ADMIN_TOKEN: Deckhand's own settings never reach/.test(error.message),
  )
  assert.throws(
    () => readSettings({ ...base, DECKHAND_PASS_ENV: 'deckhand_database_url' }),
    /Deckhand's own settings/,
  )
  assert.throws(
    () => readSettings({ ...base, DECKHAND_PASS_ENV: 'A=B' }),
    /names "A=B", which is not a variable name/,
  )
})
