// Which server and token a command uses: flags, --context, the environment, the current context.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { resolveConnection } from './api-client.ts'
import { contextFilePath, readContextFile, writeContextFile } from './contexts.ts'

function withContexts(t: { after: (fn: () => void) => void }): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'deckhand-contexts-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const env = { XDG_CONFIG_HOME: dir }
  writeContextFile(contextFilePath(env), {
    currentContext: 'prod',
    contexts: [
      { name: 'prod', url: 'https://prod.example.com/', token: 'prod-token' },
      { name: 'dev', url: 'http://127.0.0.1:8080', token: 'dev-token' },
    ],
  })
  return env
}

test('the current context gives URL and token when nothing else is set', (t) => {
  const env = withContexts(t)
  assert.deepEqual(resolveConnection({}, env), {
    url: 'https://prod.example.com',
    token: 'prod-token',
  })
  assert.deepEqual(resolveConnection({ context: 'dev' }, env), {
    url: 'http://127.0.0.1:8080',
    token: 'dev-token',
  })
})

test('flags beat --context, which beats the environment, which beats the current context', (t) => {
  const env = {
    ...withContexts(t),
    DECKHAND_URL: 'http://127.0.0.1:9000',
    DECKHAND_TOKEN: 'env-token',
  }
  assert.deepEqual(resolveConnection({}, env), { url: 'http://127.0.0.1:9000', token: 'env-token' })
  assert.deepEqual(resolveConnection({ context: 'dev' }, env), {
    url: 'http://127.0.0.1:8080',
    token: 'dev-token',
  })
  assert.deepEqual(resolveConnection({ context: 'dev', token: 'flag-token' }, env), {
    url: 'http://127.0.0.1:8080',
    token: 'flag-token',
  })
})

test("a context's token never goes to a URL given another way", (t) => {
  const env = withContexts(t)
  assert.deepEqual(resolveConnection({ url: 'http://127.0.0.1:7000' }, env), {
    url: 'http://127.0.0.1:7000',
    token: undefined,
  })
  assert.deepEqual(resolveConnection({ context: 'prod', url: 'http://127.0.0.1:7000' }, env), {
    url: 'http://127.0.0.1:7000',
    token: undefined,
  })
  assert.deepEqual(resolveConnection({}, { ...env, DECKHAND_URL: 'http://127.0.0.1:7000' }), {
    url: 'http://127.0.0.1:7000',
    token: undefined,
  })
})

test('an unknown context names the ones there are; a relative XDG_CONFIG_HOME is ignored', (t) => {
  const env = withContexts(t)
  assert.throws(
    () => resolveConnection({ context: 'staging' }, env),
    /no context named "staging" .*there are: prod, dev/,
  )
  assert.equal(
    contextFilePath({ XDG_CONFIG_HOME: 'relative', HOME: '/home/u' }),
    '/home/u/.config/deckhand/config.yaml',
  )
  assert.deepEqual(readContextFile(join(env.XDG_CONFIG_HOME!, 'missing.yaml')), { contexts: [] })
})
