// The settings catalogue is the whole truth: every variable the server reads is in it, the
// README lists each, and `deckhand serve --help` prints each.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { SETTINGS } from './settings-catalogue.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const names = SETTINGS.map((s) => s.name)

test('every variable the server reads from its environment is in the catalogue', () => {
  const read = new Set<string>()
  for (const file of readdirSync(new URL('.', import.meta.url))) {
    if (file.endsWith('.ts') && !file.endsWith('.test.ts')) {
      const text = readFileSync(new URL(file, import.meta.url), 'utf8')
      for (const match of text.matchAll(/env\.((?:DECKHAND_|DOCKER_)[A-Z_]+)/g)) {
        read.add(match[1]!)
      }
    }
  }
  assert.ok(read.size >= 10, `found only ${[...read].join(', ')}`)
  assert.deepEqual(
    [...read].filter((name) => !names.includes(name)),
    [],
    'add these to src/server/settings-catalogue.ts',
  )
})

test("the README's settings table lists every setting of the catalogue", () => {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8')
  const table = readme.slice(
    readme.indexOf('## Settings'),
    readme.indexOf('\n## ', readme.indexOf('## Settings') + 1),
  )
  assert.deepEqual(
    names.filter((name) => !table.includes(`| \`${name}\` |`)),
    [],
  )
})

test('deckhand serve --help lists every setting with its default', async () => {
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(`${ROOT}bin/deckhand`, ['serve', '--help'], { encoding: 'utf8' }, (error, out) =>
      error ? reject(error) : resolve(out),
    ),
  )
  for (const setting of SETTINGS) {
    assert.match(
      stdout,
      new RegExp(
        `^ {2}${setting.name} +${setting.meaning.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n +default: ${setting.fallback.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`,
        'm',
      ),
      setting.name,
    )
  }
})
