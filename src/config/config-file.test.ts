// deckhand.yaml validation: every mistake named by file, line and field, before anything is applied.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { test } from 'node:test'

import { serviceSpecSchema } from '../specs/service-spec.ts'
import { configTriggerSchema, parseConfigText } from './config-file.ts'

const TOKEN = 'a'.repeat(43)
const OTHER = 'b'.repeat(43)

const VALID = `# a comment on line 1
prune: false
services:
  - name: web
    driver: command
    target:
      redeploy: echo web
  - name: api
    driver: command
    target:
      redeploy: echo api
    deploy:
      healthTimeout: 30s
stacks:
  - name: shop
    services: [web, api]
triggers:
  - service: web
    name: hub
    action: redeploy
    token: \${WEB_HOOK_TOKEN}
  - stack: shop
    action: scale-up
    by: 2
    token: \${SHOP_TOKEN}
    secret: \${SHOP_SECRET:-fallback-secret}
`

const env = { WEB_HOOK_TOKEN: TOKEN, SHOP_TOKEN: OTHER }

const errorsOf = (text: string, vars: Record<string, string> = env): string[] => {
  const loaded = parseConfigText(text, 'deckhand.yaml', vars)
  assert.equal(loaded.ok, false, 'expected the file to be refused')
  return loaded.ok ? [] : loaded.errors
}

test('a valid file yields services, stacks and triggers with tokens from the environment', () => {
  const loaded = parseConfigText(VALID, 'deckhand.yaml', env)
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.join('\n'))
  const { config } = loaded
  assert.deepEqual(
    config.services.map((s) => [s.input.name, s.at]),
    [
      ['web', 'deckhand.yaml:4'],
      ['api', 'deckhand.yaml:8'],
    ],
  )
  assert.equal(config.services[1]!.input.deploy.healthTimeoutMs, 30_000)
  assert.deepEqual(config.stacks[0]!.input, { name: 'shop', services: ['web', 'api'] })
  assert.deepEqual(
    config.triggers.map((t) => [t.owner, t.options.name, t.token]),
    [
      [{ service: 'web' }, 'hub', TOKEN],
      [{ stack: 'shop' }, 'scale-up', OTHER],
    ],
  )
  assert.equal(config.triggers[1]!.options.secret, 'fallback-secret')
  assert.equal(config.prune, false)
})

test('a bad duration is refused naming its line and field', () => {
  const errors = errorsOf(VALID.replace('healthTimeout: 30s', 'healthTimeout: soon'))
  assert.deepEqual(errors, [
    'deckhand.yaml:13: services[1].deploy.healthTimeout: must be a duration such as 60s, 5m or a number of seconds',
  ])
})

test('deploy.settle is read from the file, and a bad one is refused naming its line and field', () => {
  const loaded = parseConfigText(
    VALID.replace('healthTimeout: 30s', 'healthTimeout: 30s\n      settle: 0s'),
    'deckhand.yaml',
    env,
  )
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.join('\n'))
  assert.equal(loaded.config.services[1]!.input.deploy.settleMs, 0)
  const errors = errorsOf(
    VALID.replace('healthTimeout: 30s', 'healthTimeout: 30s\n      settle: later'),
  )
  assert.deepEqual(errors, [
    'deckhand.yaml:14: services[1].deploy.settle: must be a duration such as 2s, 0s or a number of seconds',
  ])
})

test('deploy.approvals is read from the file, and a bad one is refused naming its line and field', () => {
  const loaded = parseConfigText(
    VALID.replace('healthTimeout: 30s', 'healthTimeout: 30s\n      approvals: { required: 2 }'),
    'deckhand.yaml',
    env,
  )
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.join('\n'))
  assert.deepEqual(loaded.config.services[1]!.input.deploy.approvals, {
    required: 2,
    deadlineMs: 24 * 3_600_000,
  })
  const errors = errorsOf(
    VALID.replace(
      'healthTimeout: 30s',
      'healthTimeout: 30s\n      approvals:\n        required: 12\n        deadline: 1h',
    ),
  )
  assert.deepEqual(errors, [
    'deckhand.yaml:15: services[1].deploy.approvals.required: must be a whole number from 1 to 10',
  ])
  const [unknown] = errorsOf(
    VALID.replace('healthTimeout: 30s', 'healthTimeout: 30s\n      approvals: { needed: 2 }'),
  )
  assert.match(unknown ?? '', /^deckhand\.yaml:14: services\[1\]\.deploy\.approvals\.needed/)
})

test('a misspelt field is refused with the field it was probably meant to be', () => {
  const [error] = errorsOf(VALID.replace('healthTimeout: 30s', 'healthTimout: 30s'))
  assert.match(
    error!,
    /^deckhand\.yaml:13: services\[1\]\.deploy\.healthTimout: is not a known field; did you mean healthTimeout\?/,
  )
})

test("a driver's target problem points at the target field's own line", () => {
  const [error] = errorsOf(
    VALID.replace('      redeploy: echo api', '      redeploy: echo api\n      colour: blue'),
  )
  assert.match(
    error!,
    /^deckhand\.yaml:12: services\[1\]\.target\.colour: is not a command target field/,
  )
})

test('an unset environment variable is named at the line that uses it', () => {
  const errors = errorsOf(VALID, { WEB_HOOK_TOKEN: TOKEN })
  assert.deepEqual(errors, [
    'deckhand.yaml:25: triggers[1].token: environment variable SHOP_TOKEN is not set (the file says ${SHOP_TOKEN})',
  ])
})

test('a token that is not 32 random bytes is refused with how to make one', () => {
  const [error] = errorsOf(VALID, { ...env, SHOP_TOKEN: 'short' })
  assert.match(
    error!,
    /^deckhand\.yaml:25: triggers\[1\]\.token: must be 43 base64url characters .*openssl rand/,
  )
  assert.ok(!error!.includes('short'), 'the token value never appears in an error')
})

test('YAML syntax errors carry their real line and column', () => {
  const [error] = errorsOf(
    'services:\n  - name: web\n    driver: command\n   target: {redeploy: x}\n',
  )
  assert.match(error!, /^deckhand\.yaml:4:\d+: /)
})

test('a stack or trigger naming a service or stack the file does not declare is refused at its line', () => {
  const errors = errorsOf(
    VALID.replace('services: [web, api]', 'services: [web, wroker]').replace(
      '  - service: web\n',
      '  - service: wbe\n',
    ),
  )
  assert.deepEqual(errors, [
    'deckhand.yaml:16: stacks[0].services[1]: names service wroker, which this file does not declare',
    'deckhand.yaml:18: triggers[0].service: names service wbe, which this file does not declare',
  ])
  const stackErrors = errorsOf(VALID.replace('  - stack: shop\n', '  - stack: shpo\n'))
  assert.deepEqual(stackErrors, [
    'deckhand.yaml:22: triggers[1].stack: names stack shpo, which this file does not declare',
  ])
})

test("a service on a driver the server has not enabled is refused when the server's drivers are known", () => {
  const loaded = parseConfigText(VALID, 'deckhand.yaml', env, { enabledDrivers: ['process'] })
  assert.ok(!loaded.ok)
  assert.deepEqual(loaded.errors, [
    'deckhand.yaml:5: services[0].driver: driver command is not enabled on this server (DECKHAND_DRIVERS=process)',
    'deckhand.yaml:9: services[1].driver: driver command is not enabled on this server (DECKHAND_DRIVERS=process)',
  ])
})

test('duplicates, missing owners, unknown top-level keys and wrong shapes are each reported', () => {
  const errors = errorsOf(`servics: []
services:
  - name: web
    driver: command
    target: { redeploy: x }
  - name: web
    driver: command
    target: { redeploy: x }
triggers:
  - action: redeploy
    token: ${TOKEN}
stacks: {}
`)
  assert.deepEqual(
    errors.map((e) => e.split(': ').slice(0, 2).join(': ')),
    [
      'deckhand.yaml:1: servics',
      'deckhand.yaml:6: services[1].name',
      'deckhand.yaml:10: triggers[0]',
      'deckhand.yaml:12: stacks',
    ],
  )
})

test('ignoring missing environment variables still checks everything else', () => {
  const loaded = parseConfigText(VALID, 'deckhand.yaml', {}, { ignoreMissingEnv: true })
  assert.ok(loaded.ok)
  const errors = parseConfigText(
    VALID.replace('by: 2', 'by: -2'),
    'deckhand.yaml',
    {},
    { ignoreMissingEnv: true },
  )
  assert.ok(!errors.ok && errors.errors[0]!.startsWith('deckhand.yaml:24: triggers[1].by:'))
})

test('every shipped example is valid', () => {
  const dir = new URL('../../examples/', import.meta.url)
  const files = readdirSync(dir).filter((name) => name.endsWith('.yaml'))
  assert.deepEqual(files.map((f) => f.split('.')[0]).sort(), [
    'command',
    'docker',
    'kubernetes',
    'process',
    'release-control',
    'swarm',
  ])
  for (const file of files) {
    const loaded = parseConfigText(
      readFileSync(new URL(file, dir), 'utf8'),
      file,
      {},
      { ignoreMissingEnv: true },
    )
    assert.ok(loaded.ok, `${file}: ${loaded.ok ? '' : loaded.errors.join('\n')}`)
  }
})

test('the release-control example declares approvals, windows, a freeze on rollback, hooks, statuses, a watch and a match', () => {
  const text = readFileSync(
    new URL('../../examples/release-control.deckhand.yaml', import.meta.url),
  )
  const loaded = parseConfigText(
    String(text),
    'release-control.deckhand.yaml',
    {},
    {
      ignoreMissingEnv: true,
    },
  )
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.join('\n'))
  const [shop, worker] = loaded.config.services.map((s) => s.input)
  assert.deepEqual(shop!.deploy.approvals, { required: 2, deadlineMs: 8 * 3_600_000 })
  assert.equal(shop!.deploy.windows?.length, 2)
  assert.equal(shop!.deploy.freezeOnRollback, true)
  assert.deepEqual(shop!.deploy.before, {
    run: '/srv/shop/bin/migrate --check',
    timeoutMs: 120_000,
  })
  assert.ok(shop!.deploy.after)
  assert.deepEqual(shop!.gitlab, { tokenEnv: 'DECKHAND_GITLAB_TOKEN' })
  assert.deepEqual(worker!.watch, { intervalMs: 300_000, tags: 'same' })
  assert.deepEqual(Object.keys(loaded.config.triggers[0]!.options.match ?? {}), ['all'])
})

/** The fields a table of docs/config.md names under `### heading`: its rows' first cells. */
function documentedFields(heading: string): string[] {
  const doc = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8')
  const section = doc.split(/^### /m).find((part) => part.startsWith(`${heading}\n`)) ?? ''
  return [...section.matchAll(/^\| ([^|]+) \|/gm)].flatMap((row) =>
    [...row[1]!.matchAll(/`([^`]+)`/g)].map((name) => name[1]!),
  )
}

test('docs/config.md has a row for every field a service, its deploy block and a trigger take', () => {
  const { deploy, ...service } = serviceSpecSchema.properties
  const missing = [
    ...Object.keys({ ...service, deploy }).filter((f) => !documentedFields('Services').includes(f)),
    ...Object.keys(deploy.properties)
      .map((f) => `deploy.${f}`)
      .filter((f) => !documentedFields('`deploy`').includes(f)),
    ...Object.keys(configTriggerSchema.properties).filter(
      (f) => !documentedFields('Triggers').includes(f),
    ),
  ]
  assert.deepEqual(missing, [])
})

test('every shipped example names, in its opening comment, each variable it needs', () => {
  const dir = new URL('../../examples/', import.meta.url)
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.yaml'))) {
    const text = readFileSync(new URL(file, dir), 'utf8')
    const header = text
      .split('\n')
      .filter((line, i, all) => all.slice(0, i + 1).every((l) => l.startsWith('#')))
      .join('\n')
    const used = new Set([...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*)(?![^}]*:-)/g)].map((m) => m[1]!))
    const missing = [...used].filter((name) => !header.includes(name))
    assert.deepEqual(
      missing,
      [],
      `${file}: the opening comment does not name ${missing.join(', ')}`,
    )
  }
})

test('a trigger match is read from the file, and one out of bounds is refused at its line and field', () => {
  const withMatch = VALID.replace(
    '    action: redeploy\n',
    `    action: redeploy
    match:
      all:
        - header: X-GitHub-Event
          equals: push
        - body: ref
          regex: ^refs/heads/main$
`,
  )
  const loaded = parseConfigText(withMatch, 'deckhand.yaml', env)
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.join('\n'))
  assert.deepEqual(loaded.config.triggers[0]!.options.match, {
    all: [
      { header: 'x-github-event', equals: 'push' },
      { body: 'ref', regex: '^refs/heads/main$' },
    ],
  })
  assert.equal(loaded.config.triggers[1]!.options.match, null)
  assert.deepEqual(
    errorsOf(withMatch.replace('^refs/heads/main$', '(?<=x)main')).map((e) =>
      e.split(': ').slice(0, 3).join(': '),
    ),
    [
      'deckhand.yaml:26: triggers[0].match.all[1].regex: is not a valid regular expression for the linear-time RE2 engine (which has no back-references or look-arounds)',
    ],
  )
})

test('deploy hooks are read from the file, and a bad one is refused at its line and field', () => {
  const withHooks = VALID.replace(
    '      healthTimeout: 30s\n',
    `      healthTimeout: 30s
      before: ./check.sh
      after: { run: ./announce.sh "$DECKHAND_DEPLOYMENT_STATE", timeout: 5m }
`,
  )
  const loaded = parseConfigText(withHooks, 'deckhand.yaml', env)
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.join('\n'))
  const deploy = loaded.config.services[1]!.input.deploy
  assert.deepEqual(
    [deploy.before, deploy.after],
    [
      { run: './check.sh', timeoutMs: 60_000 },
      { run: './announce.sh "$DECKHAND_DEPLOYMENT_STATE"', timeoutMs: 300_000 },
    ],
  )
  assert.deepEqual(
    errorsOf(
      withHooks
        .replace('timeout: 5m', 'timout: 5m')
        .replace('./check.sh', "{ run: '', timeout: 0 }"),
    ),
    [
      'deckhand.yaml:14: services[1].deploy.before.run: must be a shell command of 1 to 16384 characters, or {"run": "<shell>", "timeout": "60s"}',
      'deckhand.yaml:15: services[1].deploy.after.timout: is not a hook field (known: run, timeout)',
    ],
  )
})
