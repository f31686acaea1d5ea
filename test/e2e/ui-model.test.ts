/**
 * The web UI shares the server's model instead of copying it: no closed list of src/model is
 * spelled out again under web/src, and what the bundle imports from outside web/ is pure.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import * as model from '../../src/model/index.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const WEB_SRC = join(ROOT, 'web', 'src')
/** Modules outside web/ the bundle may run: they import nothing, so nothing Node-only comes along. */
const PURE_MODULES = ['src/model/index.ts']

function webSources(): { path: string; text: string }[] {
  return readdirSync(WEB_SRC, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.tsx?$/.test(name))
    .map((name) => ({ path: join(WEB_SRC, name), text: readFileSync(join(WEB_SRC, name), 'utf8') }))
}

/** Every `import … from` and `export … from` of a file: whether it is type-only, and where. */
function importsOf(text: string): { typeOnly: boolean; from: string }[] {
  const found = text.matchAll(/^(?:import|export)\s+(type\s)?[^;'"]*?\bfrom\s+'([^']+)'/gm)
  return [...found].map((m) => ({ typeOnly: m[1] !== undefined, from: m[2]! }))
}

test('no closed list of src/model is copied by hand under web/src', () => {
  const lists = Object.entries(model as Record<string, unknown>).filter(
    (entry): entry is [string, string[]] => Array.isArray(entry[1]) && entry[1].length >= 2,
  )
  assert.ok(lists.length >= 8, 'the model exports its closed lists')
  for (const { path, text } of webSources()) {
    for (const [name, items] of lists) {
      const spelled = new RegExp(items.map((item) => `'${item}'`).join(String.raw`\s*,\s*`))
      assert.doesNotMatch(text, spelled, `${relative(ROOT, path)} copies ${name}`)
    }
  }
})

test('web/src runs only pure modules from outside web/, and those import nothing', () => {
  let shared = 0
  for (const { path, text } of webSources()) {
    for (const { typeOnly, from } of importsOf(text)) {
      if (!from.startsWith('.')) {
        continue
      }
      const target = relative(ROOT, resolve(dirname(path), from))
      if (target.startsWith('web/') || typeOnly) {
        continue
      }
      shared++
      assert.ok(
        PURE_MODULES.includes(target),
        `${relative(ROOT, path)} runs ${target}: import it as a type, or split a pure module out`,
      )
    }
  }
  assert.ok(shared > 0, 'the UI imports the model it shares')
  for (const module of PURE_MODULES) {
    assert.deepEqual(importsOf(readFileSync(join(ROOT, module), 'utf8')), [], module)
  }
})
