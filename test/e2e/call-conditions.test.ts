/** A trigger's `match` through the real server: refused when out of bounds, ignored when unmet. */
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { commandService, startTestServer } from '../support/start-server.ts'

const MAIN_PUSHES = {
  all: [
    { header: 'x-github-event', equals: 'push' },
    { body: 'ref', regex: '^refs/heads/(main|release-.+)$' },
    { not: { body: 'head_commit.message', regex: '\\[skip deploy\\]' } },
  ],
}

test('a call that does not match is answered 200 ignored with the failing condition, recorded, and queues nothing', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web'))
  const created = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    sender: 'generic',
    match: MAIN_PUSHES,
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  assert.deepEqual(created.body.match, MAIN_PUSHES)
  const send = (event: string, body: unknown) =>
    server.hook(created.body.url, {
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', 'x-github-event': event },
    })

  const dev = await send('push', { ref: 'refs/heads/dev', head_commit: { message: 'x' } })
  assert.equal(dev.status, 200)
  assert.deepEqual(dev.body, {
    status: 'ignored',
    reason:
      'the call does not match the trigger: match.all[1]: wanted body ref matching "^refs/heads/(main|release-.+)$"; the call\'s value does not match',
  })
  const skipped = await send('push', {
    ref: 'refs/heads/main',
    head_commit: { message: 'docs [skip deploy]' },
  })
  assert.equal(
    skipped.body.reason,
    'the call does not match the trigger: match.all[2].not: the call has body head_commit.message matching "\\\\[skip deploy\\\\]"',
  )
  const ping = await send('ping', {})
  assert.match(
    ping.body.reason,
    /match\.all\[0\]: wanted header x-github-event equals "push"; the call's value differs$/,
  )
  assert.equal((await server.api('GET', '/api/v1/deployments?service=web')).body.items.length, 0)

  const calls = (await server.api('GET', `/api/v1/calls?trigger=${created.body.id}`)).body.items
  assert.deepEqual(
    calls.map((c: { outcome: string; status: number }) => [c.outcome, c.status]),
    [
      ['ignored', 200],
      ['ignored', 200],
      ['ignored', 200],
    ],
  )
  assert.equal(calls[2].reason, dev.body.reason)

  const release = await send('push', {
    ref: 'refs/heads/release-2',
    head_commit: { message: 'ship it' },
  })
  assert.equal(release.status, 202)
  assert.equal(release.body.status, 'queued')
})

test('the match is checked after the signature: an unsigned call is 401, not ignored', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web'))
  const match = { body: 'env', equals: 'prod' }
  const created = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    secret: 's3cr3t',
    match,
  })
  const body = 'env=dev'
  const headers = { 'content-type': 'application/x-www-form-urlencoded' }
  assert.equal((await server.hook(created.body.url, { body, headers })).status, 401)
  const signature = `sha256=${createHmac('sha256', 's3cr3t').update(body).digest('hex')}`
  const signed = await server.hook(created.body.url, {
    body,
    headers: { ...headers, 'x-deckhand-signature': signature },
  })
  assert.equal(signed.status, 200)
  assert.match(
    signed.body.reason,
    /match: wanted body env equals "prod"; the call's value differs$/,
  )
})

test('a match out of bounds is refused at creation with a 400 naming the field', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web'))
  const refused = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    match: { any: [{ query: 'env', regex: '(a)\\1' }] },
  })
  assert.equal(refused.status, 400)
  assert.match(
    refused.body.error,
    /match\.any\[0\]\.regex: is not a valid regular expression for the linear-time RE2 engine/,
  )
  const deep = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    match: {
      not: {
        not: { not: { not: { not: { not: { not: { not: { query: 'a', exists: true } } } } } } },
      },
    },
  })
  assert.equal(deep.status, 400)
  assert.match(
    deep.body.error,
    /match\.not\.not\.not\.not\.not\.not\.not\.not: nests deeper than 8 levels/,
  )
  assert.equal((await server.api('GET', '/api/v1/services/web/triggers')).body.items.length, 0)
})

test('query and header conditions with in and exists pass a call through', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web'))
  const match = {
    any: [
      { query: 'env', in: ['prod', 'staging'] },
      { header: 'x-force', exists: true },
    ],
  }
  const created = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    match,
  })
  assert.equal((await server.hook(`${created.body.url}?env=staging`)).status, 202)
  assert.equal((await server.hook(created.body.url, { headers: { 'X-Force': '1' } })).status, 202)
  const none = await server.hook(`${created.body.url}?env=dev`)
  assert.equal(none.status, 200)
  assert.match(
    none.body.reason,
    /^the call does not match the trigger: match\.any: none of its 2 entries held; the first: match\.any\[0\]: /,
  )
})

test('deckhand.yaml sets a trigger match, a file without it removes it, the same file again changes nothing, nor does a trigger stored before match existed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'deckhand-match-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'deckhand.yaml')
  const token = 'M'.repeat(43)
  const config = (match: string) => `services:
  - name: web
    driver: command
    target: { redeploy: echo web }
triggers:
  - service: web
    name: ci
    action: redeploy
    token: ${token}
${match}`
  const data = { DECKHAND_DATA_DIR: join(dir, 'data') }
  const url = (server: { url: string }) => `${server.url}/hooks/${token}?env=dev`
  const applied = (logs: string[]) =>
    logs.filter((line) => line.includes(`applied ${file}`)).join('\n')

  writeFileSync(file, config('    match: { query: env, equals: prod }\n'))
  const first = await startTestServer(undefined, { configFile: file, env: data })
  t.after(() => first.close())
  const ignored = await first.hook(url(first))
  assert.equal(ignored.status, 200)
  assert.match(ignored.body.reason, /match: wanted query env equals "prod"/)
  await first.close({ keepServices: true })

  writeFileSync(file, config(''))
  const second = await startTestServer(undefined, { configFile: file, env: data })
  t.after(() => second.close())
  assert.match(applied(second.logs), /updated service web trigger ci \(options\)/)
  assert.equal((await second.hook(url(second))).status, 202)
  assert.equal((await second.api('GET', '/api/v1/services/web/triggers')).body.items[0].match, null)
  await second.close({ keepServices: true })

  const third = await startTestServer(undefined, { configFile: file, env: data })
  t.after(() => third.close())
  assert.match(applied(third.logs), /0 changes/)

  // A trigger stored before `match` existed has no such key: that is no match, not a change.
  const [stored] = (await third.store.listTriggers({ service: 'web' }, { limit: 10 })).items
  const { id, service, stack, createdAt, revokedAt, match, ...older } = stored!
  assert.equal(match, null)
  await third.store.updateTrigger(id, older)
  assert.equal('match' in (await third.store.getTrigger(id))!, false)
  await third.close({ keepServices: true })
  const fourth = await startTestServer(undefined, { configFile: file, env: data })
  t.after(() => fourth.close())
  assert.match(applied(fourth.logs), /0 changes/)
})
