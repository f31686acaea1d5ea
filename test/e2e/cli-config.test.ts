// deckhand.yaml end to end: `config validate` and `serve --config` refuse a bad file naming the
// line; a good file is applied at start, and applying it again changes nothing.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'

import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { hashToken } from '../../src/triggers/token.ts'
import { startTestServer } from '../support/start-server.ts'
import { BIN, deckhand } from './cli-support.ts'

const WEB_TOKEN = 'W'.repeat(43)
const SHOP_TOKEN = 'S'.repeat(43)

const CONFIG = `services:
  - name: cfg-web
    driver: command
    target:
      redeploy: echo web
    scale: { min: 1, max: 3 }
  - name: cfg-api
    driver: command
    target:
      redeploy: echo api
stacks:
  - name: cfg-shop
    services: [cfg-web, cfg-api]
triggers:
  - service: cfg-web
    name: hub
    action: redeploy
    token: \${CFG_WEB_TOKEN}
  - stack: cfg-shop
    name: all
    action: redeploy
    token: \${CFG_SHOP_TOKEN}
`

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'deckhand-config-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

test('config validate accepts a good file and refuses a bad one naming file, line and field', async (t) => {
  const dir = tempDir(t)
  const good = join(dir, 'deckhand.yaml')
  writeFileSync(good, CONFIG)
  const env = { CFG_WEB_TOKEN: WEB_TOKEN, CFG_SHOP_TOKEN: SHOP_TOKEN }
  const valid = await deckhand(['config', 'validate', good], env)
  assert.equal(valid.code, 0, valid.stderr)
  assert.match(valid.stdout, /valid \(2 services, 1 stack, 2 triggers\)/)

  const bad = join(dir, 'bad.yaml')
  writeFileSync(
    bad,
    CONFIG.replace(
      'scale: { min: 1, max: 3 }',
      'scale: { min: 1, max: 3 }\n    deploy:\n      healthTimeout: soon',
    ),
  )
  const refused = await deckhand(['config', 'validate', bad], env)
  assert.equal(refused.code, 1)
  assert.equal(
    refused.stderr,
    `${bad}:8: services[0].deploy.healthTimeout: must be a duration such as 60s, 5m or a number of seconds\n`,
  )
  const asJson = await deckhand(['config', 'validate', bad, '--json'], env)
  assert.equal(JSON.parse(asJson.stdout).valid, false)
  const asYaml = await deckhand(['config', 'validate', bad, '-o', 'yaml'], env)
  assert.equal(asYaml.code, 1)
  assert.match(asYaml.stdout, /^valid: false\nerrors:\n {2}- .*healthTimeout/m)

  const missing = await deckhand(['config', 'validate', good])
  assert.equal(missing.code, 1)
  assert.match(
    missing.stderr,
    /:18: triggers\[0\]\.token: environment variable CFG_WEB_TOKEN is not set/,
  )
  assert.equal((await deckhand(['config', 'validate', good, '--ignore-env'])).code, 0)
  const disabled = await deckhand(['config', 'validate', good], {
    ...env,
    DECKHAND_DRIVERS: 'process',
  })
  assert.equal(disabled.code, 1)
  assert.match(
    disabled.stderr,
    /:3: services\[0\]\.driver: driver command is not enabled on this server \(DECKHAND_DRIVERS=process\)/,
  )
  assert.equal((await deckhand(['config', 'validate', join(dir, 'nope.yaml')])).code, 1)
  assert.equal((await deckhand(['config', 'validate'])).code, 2)
})

test('deckhand serve refuses a bad file at start, naming the line, and opens nothing', async (t) => {
  const dir = tempDir(t)
  const bad = join(dir, 'deckhand.yaml')
  writeFileSync(bad, CONFIG.replace('action: redeploy', 'action: explode'))
  const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const env = {
      ...process.env,
      DECKHAND_DATA_DIR: join(dir, 'data'),
      DECKHAND_LISTEN: '127.0.0.1:0',
      CFG_WEB_TOKEN: WEB_TOKEN,
      CFG_SHOP_TOKEN: SHOP_TOKEN,
    }
    execFile(
      BIN,
      ['serve', '--config', bad],
      { env, timeout: 30_000 },
      (error, _stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr })
      },
    )
  })
  assert.equal(result.code, 2)
  assert.match(
    result.stderr,
    new RegExp(
      `${bad}:17: triggers\\[0\\]\\.action: must be one of redeploy, scale-up, scale-down`,
    ),
  )
})

/** Processes whose command line holds `marker`: replicas a refused start must not leave behind. */
function processesWith(marker: string): string[] {
  return readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)
      } catch {
        return false // the process ended while we looked
      }
    })
}

test('a file with bad references fails validate and serve alike, and serve leaves no service, token or replica', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'deckhand.yaml')
  const marker = `cfg-marker-${process.pid}-${Date.now()}`
  writeFileSync(
    file,
    `services:
  - name: web
    driver: process
    target:
      command: sleep 3600 && echo ${marker}
stacks:
  - name: shop
    services: [web, wroker]
triggers:
  - service: wbe
    action: redeploy
    token: ${WEB_TOKEN}
  - stack: shop
    action: redeploy
    token: ${SHOP_TOKEN}
`,
  )
  const expected = [
    `${file}:8: stacks[0].services[1]: names service wroker, which this file does not declare`,
    `${file}:10: triggers[0].service: names service wbe, which this file does not declare`,
  ]
  const validated = await deckhand(['config', 'validate', file, '--ignore-env'])
  assert.equal(validated.code, 1)
  assert.equal(validated.stderr, expected.map((line) => `${line}\n`).join(''))

  const data = join(dir, 'data')
  const served = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve) => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        DECKHAND_DATA_DIR: data,
        DECKHAND_LISTEN: '127.0.0.1:0',
      }
      delete env.DECKHAND_ADMIN_TOKEN
      execFile(
        BIN,
        ['serve', '--config', file],
        { env, timeout: 30_000 },
        (error, stdout, stderr) => {
          resolve({
            code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
            stdout,
            stderr,
          })
        },
      )
    },
  )
  assert.equal(served.code, 2, served.stderr)
  for (const line of expected) {
    assert.ok(served.stderr.includes(line), `serve names ${line}:\n${served.stderr}`)
  }
  assert.doesNotMatch(served.stdout + served.stderr, /admin token/i)
  const db = join(data, 'deckhand.db')
  if (existsSync(db)) {
    const store = new DatabaseSync(db, { readOnly: true })
    t.after(() => store.close())
    assert.deepEqual(store.prepare('SELECT name FROM services').all(), [])
    assert.deepEqual(store.prepare('SELECT id FROM admin_tokens').all(), [])
  }
  assert.deepEqual(processesWith(marker), [], 'no replica outlives the refused start')
})

test('a file that fails only while applying (a token another trigger holds) leaves no service of it, nor its replica', async (t) => {
  const dir = tempDir(t)
  const data = join(dir, 'data')
  const held = 'H'.repeat(43)
  // The store as an earlier start left it: a trigger of service old holds the token.
  const earlier = new SqliteStore(join(data, 'deckhand.db'))
  await earlier.migrate()
  await earlier.createService({
    name: 'old',
    driver: 'command',
    target: { redeploy: 'true' },
    image: null,
    git: null,
    scale: { min: 0, max: 1 },
    tagPolicy: 'all',
    deploy: { order: 'start-first', healthTimeoutMs: 60_000, pull: 'missing', rollback: true },
  })
  await earlier.createTrigger({
    id: 'trg_0000000000aaaaaaaa',
    service: 'old',
    stack: null,
    tokenHash: hashToken(held),
    name: 'hub',
    action: 'redeploy',
    by: 1,
    sender: 'auto',
    secret: null,
    allowIps: [],
    passBody: true,
    envFromQuery: [],
    secretEnvFromQuery: [],
    allowTag: true,
    reverseOnResolve: false,
    cooldownMs: 0,
    rateLimit: { count: 60, perMs: 60_000 },
  })
  await earlier.close()
  const marker = `cfg-apply-${process.pid}-${Date.now()}`
  const file = join(dir, 'deckhand.yaml')
  writeFileSync(
    file,
    `services:
  - name: one
    driver: process
    target:
      command: sleep 3600 && echo ${marker}
  - name: two
    driver: command
    target:
      redeploy: "true"
stacks:
  - name: both
    services: [one, two]
triggers:
  - service: one
    action: redeploy
    token: ${WEB_TOKEN}
  - service: two
    action: redeploy
    token: ${held}
`,
  )
  const served = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DECKHAND_DATA_DIR: data,
      DECKHAND_LISTEN: '127.0.0.1:0',
    }
    delete env.DECKHAND_ADMIN_TOKEN
    execFile(
      BIN,
      ['serve', '--config', file],
      { env, timeout: 30_000 },
      (error, _stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr })
      },
    )
  })
  assert.notEqual(served.code, 0, served.stderr)
  assert.match(served.stderr, /deckhand\.yaml:\d+: /, 'the failure names the declaration at fault')
  const store = new DatabaseSync(join(data, 'deckhand.db'), { readOnly: true })
  t.after(() => store.close())
  assert.deepEqual(
    store
      .prepare('SELECT name FROM services')
      .all()
      .map((row) => row.name),
    ['old'],
  )
  assert.deepEqual(store.prepare('SELECT name FROM stacks').all(), [])
  const live = store
    .prepare('SELECT id FROM triggers WHERE revoked_at IS NULL')
    .all()
    .map((row) => row.id)
  assert.deepEqual(live, ['trg_0000000000aaaaaaaa'])
  assert.deepEqual(store.prepare('SELECT id FROM admin_tokens').all(), [])
  assert.deepEqual(processesWith(marker), [], 'the replica of service one was stopped again')
})

test('a valid file is applied at start; applying it again changes nothing; prune removes what it dropped', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'deckhand.yaml')
  writeFileSync(file, CONFIG)
  process.env.CFG_WEB_TOKEN = WEB_TOKEN
  process.env.CFG_SHOP_TOKEN = SHOP_TOKEN
  t.after(() => {
    delete process.env.CFG_WEB_TOKEN
    delete process.env.CFG_SHOP_TOKEN
  })
  const data = { DECKHAND_DATA_DIR: join(dir, 'data') }

  const first = await startTestServer(undefined, { configFile: file, env: data })
  const before = {
    services: (await first.api('GET', '/api/v1/services')).body.items,
    triggers: (await first.api('GET', '/api/v1/services/cfg-web/triggers')).body.items,
    stack: (await first.api('GET', '/api/v1/stacks/cfg-shop')).body,
  }
  assert.deepEqual(before.services.map((s: any) => s.name).sort(), ['cfg-api', 'cfg-web'])
  assert.equal((await first.hook(`${first.url}/hooks/${WEB_TOKEN}`)).status, 202)
  assert.ok(first.logs.some((line) => line.includes('applied') && line.includes('5 changes')))
  await first.close({ keepServices: true })

  const second = await startTestServer(undefined, { configFile: file, env: data })
  t.after(() => second.close())
  assert.ok(
    second.logs.some((line) => line.includes('0 changes')),
    second.logs.filter((l) => l.includes('applied')).join('\n'),
  )
  assert.deepEqual((await second.api('GET', '/api/v1/services')).body.items, before.services)
  assert.deepEqual(
    (await second.api('GET', '/api/v1/services/cfg-web/triggers')).body.items,
    before.triggers,
  )
  assert.deepEqual((await second.api('GET', '/api/v1/stacks/cfg-shop')).body, before.stack)
  assert.equal((await second.hook(`${second.url}/hooks/${SHOP_TOKEN}`)).status, 202)
  assert.ok(
    !second.logs.some((line) => line.includes(WEB_TOKEN) || line.includes(SHOP_TOKEN)),
    'tokens never logged',
  )
  await second.close({ keepServices: true })

  writeFileSync(
    file,
    `prune: true\n${CONFIG.replace(/ {2}- name: cfg-api[\s\S]*?(?=stacks:)/, '')
      .replace('[cfg-web, cfg-api]', '[cfg-web]')
      .replace('redeploy: echo web', 'redeploy: echo web v2')}`,
  )
  const third = await startTestServer(undefined, { configFile: file, env: data })
  t.after(() => third.close())
  const services = (await third.api('GET', '/api/v1/services')).body.items
  assert.deepEqual(
    services.map((s: any) => [s.name, s.target.redeploy]),
    [['cfg-web', 'echo web v2']],
  )
  assert.deepEqual((await third.api('GET', '/api/v1/stacks/cfg-shop')).body.services, ['cfg-web'])
})
