/** DECKHAND_LOG_FORMAT takes PRODUCT.md's names, `pretty` and `json`, and `text` as before. */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { logFormatFor } from './logger.ts'
import { readSettings, SettingsError } from './settings.ts'

test('DECKHAND_LOG_FORMAT is pretty or json, text is read as pretty, anything else stops start', () => {
  const base = { DECKHAND_DATA_DIR: '/nonexistent-deckhand-test' }
  assert.equal(readSettings({ ...base, DECKHAND_LOG_FORMAT: 'pretty' }).logFormat, 'pretty')
  assert.equal(readSettings({ ...base, DECKHAND_LOG_FORMAT: 'json' }).logFormat, 'json')
  assert.equal(readSettings({ ...base, DECKHAND_LOG_FORMAT: 'text' }).logFormat, 'pretty')
  assert.equal(readSettings(base).logFormat, undefined)
  assert.throws(
    () => readSettings({ ...base, DECKHAND_LOG_FORMAT: 'xml' }),
    (error: Error) =>
      error instanceof SettingsError && /pretty or json; got "xml"/.test(error.message),
  )
})

test('without the setting, a terminal gets pretty lines and anything else JSON', () => {
  assert.equal(logFormatFor(undefined, true), 'pretty')
  assert.equal(logFormatFor(undefined, false), 'json')
  assert.equal(logFormatFor('json', true), 'json')
})
