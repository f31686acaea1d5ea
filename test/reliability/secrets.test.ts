// Promise: a secret never appears in a log line, an error message, or an API listing;
// and secrets stay secret everywhere (issue 15): redacted output, explicit child environments.
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'

import { hmacHex } from '../../src/senders/signature.ts'
import { deckhand } from '../e2e/cli-support.ts'
import { FIXTURE_SECRET, readFixture } from '../fixtures/senders/load.ts'
import {
  ADMIN_TOKEN,
  commandService,
  startTestServer,
  testServerStore,
} from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

/** Sends a request exactly as given (fetch would normalise a path such as `%ff`). */
function rawGet(url: string, path: string, method = 'GET'): Promise<string> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(url)
    const req = httpRequest({ host: '127.0.0.1', port, path, method }, (res) => {
      let text = ''
      res.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')))
      res.on('end', () => resolve(`${res.statusCode} ${JSON.stringify(res.headers)} ${text}`))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('promise: a secret never appears in a log line, an error message, or an API listing', () => {
  it('across every trigger kind, signature, admin token, rotation, revoke, failure, SSE log and CLI --json, no secret leaks', async (t) => {
    const server = await startTestServer(t)
    const secrets = new Set<string>([ADMIN_TOKEN])
    /** Everything a person or a log collector could read, except the one-time creation answers. */
    const seen: string[] = []
    const api = async (
      method: string,
      path: string,
      body?: unknown,
      init: { token?: string; oneTime?: boolean } = {},
    ) => {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${init.token ?? ADMIN_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      const text = await response.text()
      if (!init.oneTime) {
        seen.push(
          `${method} ${path} -> ${response.status} ${JSON.stringify([...response.headers])} ${text}`,
        )
      }
      return { status: response.status, body: text ? JSON.parse(text) : undefined }
    }
    const hook = async (
      url: string,
      init: { body?: string | Buffer; headers?: Record<string, string>; method?: string } = {},
    ) => {
      const response = await fetch(url, {
        method: init.method ?? 'POST',
        body: init.body as BodyInit | undefined,
        headers: init.headers,
      })
      const text = await response.text()
      seen.push(`hook -> ${response.status} ${JSON.stringify([...response.headers])} ${text}`)
      return { status: response.status, text }
    }

    // Services whose own secrets (GitHub token, notify signing secret) are hidden in views.
    const githubToken = 'ghp_reliabilitySecretToken0123456789abcdef'
    const notifySecret = 'notify-signing-secret-0123456789'
    secrets.add(githubToken).add(notifySecret)
    const git = { git: { repo: 'acme/web', branch: 'main' } }
    assert.equal(
      (await api('POST', '/api/v1/services', commandService('web', 'echo deploying web', git)))
        .status,
      201,
    )
    assert.equal(
      (
        await api(
          'POST',
          '/api/v1/services',
          commandService('img', 'echo deploying img', { image: 'acme/web' }),
        )
      ).status,
      201,
    )
    assert.equal(
      (await api('POST', '/api/v1/services', commandService('broken', 'echo failing >&2; exit 1')))
        .status,
      201,
    )
    const patched = await api('PATCH', '/api/v1/services/web', {
      github: { token: githubToken },
      notify: [{ url: 'http://127.0.0.1:9/never', format: 'json', secret: notifySecret }],
    })
    assert.equal(patched.status, 200, JSON.stringify(patched.body))
    assert.equal(
      (await api('POST', '/api/v1/stacks', { name: 'shop', services: ['web', 'img'] })).status,
      201,
    )

    // One trigger per sender kind, each with its own secret.
    const kinds = [
      ['github', 'github-push-branch', 'web'],
      ['gitlab', 'gitlab-push', 'web'],
      ['bitbucket', 'bitbucket-push', 'web'],
      ['gitea', 'gitea-push', 'web'],
      ['generic', 'generic-signed', 'web'],
      ['alertmanager', 'alertmanager-firing-group', 'img'],
      ['dockerhub', 'dockerhub-push', 'img'],
      ['harbor', 'harbor-push-artifact', 'img'],
      ['registry', 'registry-push', 'img'],
    ] as const
    const triggers: { id: string; url: string; secret: string; kind: string; fixture: string }[] =
      []
    for (const [kind, fixture, service] of kinds) {
      const secret = `${kind}-trigger-secret-${'x'.repeat(8)}`
      secrets.add(secret)
      const action = kind === 'alertmanager' ? 'scale-up' : 'redeploy'
      const created = await api(
        'POST',
        `/api/v1/services/${service}/triggers`,
        { action, name: kind, sender: kind, secret, cooldown: 0 },
        { oneTime: true },
      )
      assert.equal(created.status, 201, `${kind}: ${JSON.stringify(created.body)}`)
      triggers.push({ id: created.body.id, url: created.body.url, secret, kind, fixture })
    }
    const stackTrigger = await api(
      'POST',
      '/api/v1/stacks/shop/triggers',
      { action: 'redeploy' },
      { oneTime: true },
    )
    const plain = await api(
      'POST',
      '/api/v1/services/broken/triggers',
      { action: 'redeploy' },
      { oneTime: true },
    )
    for (const url of [stackTrigger.body.url, plain.body.url, ...triggers.map((t) => t.url)]) {
      secrets.add(new URL(url).pathname.split('/')[2]!)
    }

    // Each sender signed right, wrong, and not at all.
    for (const trigger of triggers) {
      const { body, headers } = readFixture(trigger.fixture)
      const signed = { ...headers }
      const sign = (secret: string) => {
        const withSecret = (value: string) => value.replaceAll(FIXTURE_SECRET, secret)
        if (trigger.kind === 'generic') {
          return { ...signed, 'X-Deckhand-Signature': `sha256=${hmacHex('sha256', secret, body)}` }
        }
        if (trigger.kind === 'github') {
          return { ...signed, 'X-Hub-Signature-256': `sha256=${hmacHex('sha256', secret, body)}` }
        }
        if (trigger.kind === 'bitbucket') {
          return { ...signed, 'X-Hub-Signature': `sha256=${hmacHex('sha256', secret, body)}` }
        }
        if (trigger.kind === 'gitea') {
          return { ...signed, 'X-Gitea-Signature': hmacHex('sha256', secret, body) }
        }
        if (trigger.kind === 'gitlab') {
          return { ...signed, 'X-Gitlab-Token': secret }
        }
        return Object.fromEntries(
          Object.entries({ ...signed, Authorization: `Bearer ${secret}` }).map(([k, v]) => [
            k,
            withSecret(v),
          ]),
        )
      }
      await hook(trigger.url, { body, headers: sign(trigger.secret) })
      await hook(trigger.url, { body, headers: sign(`${trigger.secret}-wrong`) })
      await hook(trigger.url, { body, headers: { 'content-type': 'application/json' } })
      // The secret sent where it does not belong: in the query string (the access log printed
      // hook query strings whole until it kept only their names: regression) and as the body.
      await hook(`${trigger.url}?tag=${trigger.secret}&services=${trigger.secret}`, {
        body: trigger.secret,
      })
      await hook(`${trigger.url}/deployments/dpl_0000000000000000`, { method: 'GET' })
    }
    // Failing calls: a deployment that fails, waited for (500), and ?services= naming nonsense (400).
    await hook(`${plain.body.url}?wait=30s`)
    await hook(`${stackTrigger.body.url}?services=nope`)
    // Malformed URLs carrying a real token: Fastify's own 400/414 answers quoted the path, and
    // so the token, until frameworkErrors answered them (regression).
    const token = new URL(triggers[0]!.url).pathname.split('/')[2]!
    for (const [path, method, status] of [
      [`/hooks/${token}/deployments/%ff`, 'GET', '400'],
      [`/hooks/${token}${'x'.repeat(300)}`, 'POST', '414'],
      [`/hooks/${token}%`, 'POST', '400'],
    ] as const) {
      const answer = await rawGet(server.url, path, method)
      assert.ok(answer.startsWith(status), answer.slice(0, 200))
      seen.push(answer)
    }

    // Admin tokens: created, used, revoked, then used again; a wrong one.
    const created = await api('POST', '/api/v1/tokens', { name: 'ci' }, { oneTime: true })
    secrets.add(created.body.token)
    await api('GET', '/api/v1/services', undefined, { token: created.body.token })
    await api('DELETE', `/api/v1/tokens/${created.body.id}`)
    await api('GET', '/api/v1/services', undefined, { token: created.body.token })
    await api('GET', '/api/v1/services', undefined, { token: `${ADMIN_TOKEN}-wrong` })

    // Rotation and revocation: the old URLs are then called.
    const rotated = await api('POST', `/api/v1/triggers/${triggers[4]!.id}/rotate`, undefined, {
      oneTime: true,
    })
    secrets.add(new URL(rotated.body.url).pathname.split('/')[2]!)
    await hook(triggers[4]!.url)
    await hook(rotated.body.url, { body: '{}', headers: { 'X-Deckhand-Signature': 'sha256=00' } })
    await api('DELETE', `/api/v1/triggers/${triggers[1]!.id}`)
    await hook(triggers[1]!.url)

    // Every deployment's log, read and followed (SSE), and every listing.
    await waitFor(
      async () =>
        (await api('GET', '/api/v1/deployments?state=queued')).body.items.length === 0 &&
        (await api('GET', '/api/v1/deployments?state=running')).body.items.length === 0,
      {
        timeoutMs: 30_000,
        what: 'the deployments to finish',
      },
    )
    const deployments = (await api('GET', '/api/v1/deployments?limit=1000')).body.items
    assert.ok(deployments.length >= 3, `deployments ran: ${deployments.length}`)
    for (const deployment of deployments) {
      await api('GET', `/api/v1/deployments/${deployment.id}`)
      await api('GET', `/api/v1/deployments/${deployment.id}/log`)
      const sse = await fetch(`${server.url}/api/v1/deployments/${deployment.id}/log?follow=1`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      })
      seen.push(await sse.text())
    }
    for (const path of [
      '/api/v1/services',
      '/api/v1/services/web',
      '/api/v1/services/img',
      '/api/v1/stacks',
      '/api/v1/services/web/triggers',
      '/api/v1/services/img/triggers',
      '/api/v1/stacks/shop/triggers',
      '/api/v1/calls?limit=1000',
      '/api/v1/tokens',
      '/api/openapi.json',
    ]) {
      await api('GET', path)
    }
    for (const trigger of triggers) {
      await api('GET', `/api/v1/triggers/${trigger.id}`)
    }
    seen.push(await (await fetch(`${server.url}/metrics`)).text())

    // The CLI's --json output and its errors.
    const cliEnv = { DECKHAND_URL: server.url, DECKHAND_TOKEN: ADMIN_TOKEN }
    const runs = [
      ['service', 'ls', '--json'],
      ['service', 'show', 'web', '--json'],
      ['trigger', 'ls', 'web', '--json'],
      ['trigger', 'ls', '--stack', 'shop', '--json'],
      ['deploy', 'ls', '--json'],
      ['token', 'ls', '--json'],
      ['deploy', 'logs', deployments[0].id, '--json'],
    ].map(async (args) => {
      const run = await deckhand(args, cliEnv)
      seen.push(`deckhand ${args.join(' ')} -> ${run.code} ${run.stdout} ${run.stderr}`)
    })
    const refused = deckhand(['service', 'ls', '--json'], {
      ...cliEnv,
      DECKHAND_TOKEN: `${ADMIN_TOKEN}-wrong`,
    })
    await Promise.all(runs)
    seen.push((await refused).stdout, (await refused).stderr)

    const corpus = [...seen, ...server.logs]
    assert.ok(server.logs.length > 50, `logs were captured: ${server.logs.length}`)
    const leaks: string[] = []
    for (const secret of secrets) {
      for (const text of corpus) {
        if (text.includes(secret)) {
          leaks.push(
            `${secret.slice(0, 12)}… in: ${text.slice(Math.max(0, text.indexOf(secret) - 150), text.indexOf(secret) + 80)}`,
          )
        }
      }
    }
    assert.deepEqual(leaks, [])
  })
})

describe('promise: secrets stay secret everywhere', () => {
  const api = async (url: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    return { status: response.status, text, body: text ? JSON.parse(text) : undefined }
  }

  it('a script printing the trigger token, the trigger secret, the admin token and a ${VAR} config value shows [redacted] in its log, error, ?wait= answer and hook deployment answer', async (t) => {
    const configValue = 'config-value-from-the-environment-0123'
    process.env.RELIABILITY_CONFIG_SECRET = configValue
    t.after(() => delete process.env.RELIABILITY_CONFIG_SECRET)
    const dir = mkdtempSync(join(tmpdir(), 'deckhand-secrets-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const configFile = join(dir, 'deckhand.yaml')
    writeFileSync(
      configFile,
      [
        'services:',
        '  - name: from-config',
        '    driver: command',
        '    target:',
        '      redeploy: "echo ${RELIABILITY_CONFIG_SECRET}"',
        '',
      ].join('\n'),
    )
    const server = await startTestServer(t, { configFile })
    const secret = 'trigger-secret-printed-by-a-script-42'
    assert.equal(
      (await api(server.url, 'POST', '/api/v1/services', commandService('leaky'))).status,
      201,
    )
    const trigger = await api(server.url, 'POST', '/api/v1/services/leaky/triggers', {
      action: 'redeploy',
      sender: 'generic',
      secret,
      cooldown: 0,
    })
    assert.equal(trigger.status, 201, trigger.text)
    const token = new URL(trigger.body.url).pathname.split('/')[2]!
    const printed = `token=${token} secret=${secret} admin=${ADMIN_TOKEN} config=${configValue}`
    const patched = await api(server.url, 'PATCH', '/api/v1/services/leaky', {
      target: { redeploy: `echo '${printed}'; echo '${printed}' >&2; exit 1` },
    })
    assert.equal(patched.status, 200, patched.text)

    const body = '{}'
    const call = await fetch(`${trigger.body.url}?wait=30s`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'X-Deckhand-Signature': `sha256=${hmacHex('sha256', secret, body)}`,
      },
    })
    const waited = await call.text()
    assert.equal(call.status, 500, waited)
    const deploymentId = JSON.parse(waited).deployments[0].id as string
    const hookAnswer = await (await fetch(`${trigger.body.url}/deployments/${deploymentId}`)).text()
    const deployment = await api(server.url, 'GET', `/api/v1/deployments/${deploymentId}`)
    const log = await api(server.url, 'GET', `/api/v1/deployments/${deploymentId}/log`)
    const fromConfig = await api(server.url, 'POST', '/api/v1/services/from-config/deployments', {})
    await waitFor(
      async () =>
        (await api(server.url, 'GET', '/api/v1/deployments?state=queued')).body.items.length ===
          0 &&
        (await api(server.url, 'GET', '/api/v1/deployments?state=running')).body.items.length === 0,
      { timeoutMs: 30_000, what: 'the deployments to finish' },
    )
    const configLog = await api(
      server.url,
      'GET',
      `/api/v1/deployments/${fromConfig.body.deployments[0].id}/log`,
    )

    assert.match(deployment.body.error, /\[redacted\]/)
    assert.match(
      log.text,
      /token=\[redacted\] secret=\[redacted\] admin=\[redacted\] config=\[redacted\]/,
    )
    assert.match(configLog.text, /\[redacted\]/, configLog.text)
    for (const text of [waited, hookAnswer, deployment.text, log.text, configLog.text]) {
      for (const value of [token, secret, ADMIN_TOKEN, configValue]) {
        assert.ok(!text.includes(value), `${value.slice(0, 12)}… in ${text.slice(0, 300)}`)
      }
    }
  })

  it('a query variable the trigger marks secret reaches the script but shows [redacted] in its log and error, while an unmarked one shows as it is', async (t) => {
    const server = await startTestServer(t)
    assert.equal(
      (await api(server.url, 'POST', '/api/v1/services', commandService('querying'))).status,
      201,
    )
    const refused = await api(server.url, 'POST', '/api/v1/services/querying/triggers', {
      action: 'redeploy',
      envFromQuery: ['DB_TOKEN'],
      secretEnvFromQuery: ['OTHER'],
    })
    assert.equal(refused.status, 400, refused.text)
    assert.match(refused.text, /secretEnvFromQuery/)
    const trigger = await api(server.url, 'POST', '/api/v1/services/querying/triggers', {
      action: 'redeploy',
      sender: 'generic',
      envFromQuery: ['DB_TOKEN', 'RELEASE'],
      secretEnvFromQuery: ['DB_TOKEN'],
      cooldown: 0,
    })
    assert.equal(trigger.status, 201, trigger.text)
    assert.deepEqual(trigger.body.secretEnvFromQuery, ['DB_TOKEN'])
    const value = 'query-secret-value-0123456789'
    await api(server.url, 'PATCH', '/api/v1/services/querying', {
      target: {
        redeploy: `test "$DB_TOKEN" = '${value}' && echo "got $DB_TOKEN for $RELEASE"; echo "failing with $DB_TOKEN" >&2; exit 1`,
      },
    })
    const call = await fetch(
      `${trigger.body.url}?wait=30s&DB_TOKEN=${value}&RELEASE=release-2026-12`,
      { method: 'POST' },
    )
    const waited = await call.text()
    assert.equal(call.status, 500, waited)
    const id = JSON.parse(waited).deployments[0].id as string
    const log = await api(server.url, 'GET', `/api/v1/deployments/${id}/log`)
    const deployment = await api(server.url, 'GET', `/api/v1/deployments/${id}`)
    assert.match(log.text, /got \[redacted\] for release-2026-12/)
    assert.match(deployment.body.error, /failing with \[redacted\]/)
    for (const text of [waited, log.text, deployment.text]) {
      assert.ok(!text.includes(value), text.slice(0, 300))
    }
  })

  it('an unknown route or method under a real trigger URL answers 404 or 405 without quoting the token', async (t) => {
    const server = await startTestServer(t)
    assert.equal(
      (await api(server.url, 'POST', '/api/v1/services', commandService('routed'))).status,
      201,
    )
    const trigger = await api(server.url, 'POST', '/api/v1/services/routed/triggers', {
      action: 'redeploy',
    })
    const token = new URL(trigger.body.url).pathname.split('/')[2]!
    const routes = [
      ['POST', '/x', 404],
      ['GET', '/x/y', 404],
      ['PUT', '', 405],
      ['DELETE', '/deployments/..%2F..%2Fapi', 404],
      ['PATCH', '/deployments', 404],
    ] as const
    for (const [method, suffix, status] of routes) {
      const answer = await fetch(`${trigger.body.url}${suffix}`, { method })
      const text = await answer.text()
      assert.equal(answer.status, status, `${method} ${suffix}: ${text}`)
      assert.ok(!text.includes(token), `${method} ${suffix} quoted the token: ${text}`)
    }
  })

  it('a script sees PATH, its deployment variables (DECKHAND_SERVICE) and what DECKHAND_PASS_ENV names, and no DECKHAND_* setting or other variable of the server', async (t) => {
    const saved = { ...process.env }
    t.after(() => {
      for (const name of Object.keys(process.env)) {
        if (!(name in saved)) {
          delete process.env[name]
        }
      }
      Object.assign(process.env, saved)
    })
    process.env.RELIABILITY_PASSED = 'passed-on'
    process.env.RELIABILITY_UNLISTED = 'kept-back'
    process.env.DECKHAND_RETAIN = '30d'
    process.env.DECKHAND_CALLBACK_HOSTS = 'hub.docker.com'
    // The list is the server's setting: what the process environment says later is not read.
    process.env.DECKHAND_PASS_ENV = 'RELIABILITY_UNLISTED'
    const server = await startTestServer(t, { env: { DECKHAND_PASS_ENV: 'RELIABILITY_PASSED' } })
    assert.equal(
      (
        await api(
          server.url,
          'POST',
          '/api/v1/services',
          commandService('env-printer', 'env | sort'),
        )
      ).status,
      201,
    )
    const started = await api(server.url, 'POST', '/api/v1/services/env-printer/deployments', {})
    const id = started.body.deployments[0].id as string
    await waitFor(
      async () =>
        ['succeeded', 'failed'].includes(
          (await api(server.url, 'GET', `/api/v1/deployments/${id}`)).body.state,
        ),
      {
        timeoutMs: 30_000,
        what: 'the env deployment to finish',
      },
    )
    const lines = (
      (await api(server.url, 'GET', `/api/v1/deployments/${id}/log`)).body.items as {
        line: string
      }[]
    ).map((l) => l.line)
    const names = lines
      .filter((line) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(line))
      .map((line) => line.split('=')[0]!)
    assert.ok(names.includes('PATH'), lines.join('\n'))
    assert.ok(lines.includes('RELIABILITY_PASSED=passed-on'), lines.join('\n'))
    assert.ok(lines.includes('DECKHAND_SERVICE=env-printer'), lines.join('\n'))
    assert.ok(!names.includes('RELIABILITY_UNLISTED'), lines.join('\n'))
    for (const setting of ['DECKHAND_PASS_ENV', 'DECKHAND_RETAIN', 'DECKHAND_CALLBACK_HOSTS']) {
      assert.ok(!names.includes(setting), `${setting} reached the script`)
    }
  })

  it('the data directory is created 0700, and the database, its WAL and the process driver state files 0600', async (t) => {
    const parent = mkdtempSync(join(tmpdir(), 'deckhand-modes-'))
    t.after(() => rmSync(parent, { recursive: true, force: true }))
    const dataDir = join(parent, 'data')
    const server = await startTestServer(t, { dataDir })
    const service = {
      name: 'sleeper',
      driver: 'process',
      target: {
        command: `${JSON.stringify(process.execPath)} -e "setInterval(() => {}, 1000)"`,
        replicas: 1,
      },
    }
    const created = await api(server.url, 'POST', '/api/v1/services', service)
    assert.equal(created.status, 201, created.text)
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory()
          ? [join(dir, entry.name), ...files(join(dir, entry.name))]
          : [join(dir, entry.name)],
      )
    await waitFor(() => files(dataDir).some((path) => path.endsWith('.pid')), {
      timeoutMs: 15_000,
      what: 'the replica pid file',
    })
    const mode = (path: string) => (statSync(path).mode & 0o777).toString(8)
    assert.equal(mode(dataDir), '700')
    const all = files(dataDir)
    if (testServerStore() === 'sqlite') {
      assert.ok(
        all.some((path) => path.endsWith('-wal')),
        all.join('\n'),
      )
    }
    assert.ok(
      all.some((path) => path.includes('process')),
      all.join('\n'),
    )
    const wrong = all
      .filter((path) => !path.endsWith('.tmp'))
      .map((path) => `${path.slice(dataDir.length)} ${mode(path)}`)
      .filter(
        (line) =>
          !line.endsWith(
            statSync(join(dataDir, line.split(' ')[0]!)).isDirectory() ? ' 700' : ' 600',
          ),
      )
    assert.deepEqual(wrong, [])
  })

  it('service listings, the service view and the CLI show hasCredentials, never userinfo of git.url or notification URLs nor Slack webhook paths, and a PATCH keeps the credentials', async (t) => {
    const server = await startTestServer(t)
    const gitPassword = 'git-password-in-the-url-0123'
    const notifyPassword = 'notify-password-in-the-url-4567'
    const slackPath = 'T0000/B0000/slackWebhookSecretPath89'
    const spec = commandService('creds', 'echo deployed', {
      git: { repo: 'acme/web', url: `https://deploy:${gitPassword}@127.0.0.1:9/acme/web.git` },
      notify: [
        { url: `http://hook:${notifyPassword}@127.0.0.1:9/notify`, format: 'json' },
        { url: `https://hooks.slack.com/services/${slackPath}`, format: 'slack' },
      ],
    })
    const created = await api(server.url, 'POST', '/api/v1/services', spec)
    assert.equal(created.status, 201, created.text)
    const patched = await api(server.url, 'PATCH', '/api/v1/services/creds', { replicas: 2 })
    assert.equal(patched.status, 200, patched.text)
    const shown = await api(server.url, 'GET', '/api/v1/services/creds')
    assert.equal(shown.body.git.hasCredentials, true)
    assert.equal(shown.body.git.url, 'https://127.0.0.1:9/acme/web.git')
    assert.deepEqual(
      shown.body.notify.map((n: { hasCredentials?: boolean }) => n.hasCredentials),
      [true, true],
    )
    const cli = await deckhand(['service', 'show', 'creds', '-o', 'json'], {
      DECKHAND_URL: server.url,
      DECKHAND_TOKEN: ADMIN_TOKEN,
    })
    const texts = [
      created.text,
      patched.text,
      shown.text,
      (await api(server.url, 'GET', '/api/v1/services')).text,
      cli.stdout,
    ]
    for (const text of texts) {
      for (const secret of [gitPassword, notifyPassword, slackPath]) {
        assert.ok(!text.includes(secret), `${secret} in ${text.slice(0, 400)}`)
      }
    }
    // The credentials were kept, not replaced by what the view shows.
    const stored = await server.store.getService('creds')
    assert.ok(stored?.git?.url?.includes(gitPassword))
    assert.ok(stored?.notify?.[0]?.url.includes(notifyPassword))
    assert.ok(stored?.notify?.[1]?.url.includes(slackPath))
  })
})
