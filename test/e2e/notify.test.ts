/** Reporting back: Docker Hub callbacks, GitHub deployments and statuses, outgoing webhooks, against a local stand-in. */
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test, type TestContext } from 'node:test'

import { readFixture } from '../fixtures/senders/load.ts'
import { commandService, startTestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

const GITHUB_TOKEN = 'ghp_notify_test_token_0123456789'

interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: string
}

/** A 127.0.0.1 server standing in for Docker Hub, the GitHub API and webhook receivers. */
async function standIn(
  t: TestContext,
  answer: (path: string, count: number) => [number, string?] = () => [200],
) {
  const received: Received[] = []
  const counts = new Map<string, number>()
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const path = request.url ?? ''
      received.push({
        path,
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      })
      const count = (counts.get(path) ?? 0) + 1
      counts.set(path, count)
      const [status, body = ''] = answer(path, count)
      response.writeHead(status, { 'content-type': 'application/json' }).end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const at = (path: string) => received.filter((r) => r.path === path)
  return { url, received, at }
}

const FAST_RETRIES = { env: {}, notify: { retryDelaysMs: [20, 40, 80] } }

const succeeded = async (
  server: { api: (...args: any[]) => Promise<any> },
  id: string,
  state = 'succeeded',
) =>
  waitFor(
    async () => {
      const d = await server.api('GET', `/api/v1/deployments/${id}`)
      return d.body.state === state ? d.body : undefined
    },
    { what: `deployment ${id} to be ${state}` },
  )

test('Docker Hub: the outcome is posted to callback_url, retried after a 500, with the exact body', async (t) => {
  const hub = await standIn(t, (_path, count) => (count === 1 ? [500] : [200]))
  const server = await startTestServer(t, {
    ...FAST_RETRIES,
    env: { DECKHAND_CALLBACK_HOSTS: new URL(hub.url).host },
  })
  await server.api(
    'POST',
    '/api/v1/services',
    commandService('hub', 'echo ok', { image: 'acme/web' }),
  )
  await server.api(
    'POST',
    '/api/v1/services',
    commandService('hubfail', 'echo broken >&2; exit 3', { image: 'acme/web' }),
  )
  for (const [name, state] of [
    ['hub', 'success'],
    ['hubfail', 'failure'],
  ] as const) {
    const trigger = await server.api('POST', `/api/v1/services/${name}/triggers`, {
      action: 'redeploy',
    })
    const payload = JSON.parse(readFixture('dockerhub-push').body.toString())
    payload.callback_url = `${hub.url}/u/acme/web/hook/${name}/`
    const call = await server.hook(trigger.body.url, {
      body: JSON.stringify(payload),
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(call.status, 202)
    const id = call.body.deployments[0].id
    const done = await succeeded(server, id, state === 'success' ? 'succeeded' : 'failed')
    const posts = await waitFor(() =>
      hub.at(`/u/acme/web/hook/${name}/`).length === 2
        ? hub.at(`/u/acme/web/hook/${name}/`)
        : undefined,
    )
    const error = state === 'failure' ? `: ${done.error.split('\n')[0]}` : ''
    const expected = JSON.stringify({
      state,
      description: `redeploy of ${name} to 1.4.2 ${done.state}${error}`.slice(0, 140),
      context: 'deckhand',
      target_url: `${server.url}/api/v1/deployments/${id}`,
    })
    assert.deepEqual(
      posts.map((p) => p.body),
      [expected, expected],
    )
    assert.equal(posts[1]!.headers['content-type'], 'application/json')
  }
})

test('a callback that keeps failing, or a target that is not http(s), never fails the deployment and is logged with a code', async (t) => {
  const hub = await standIn(t, () => [503])
  process.env.DECKHAND_NOTIFY_URLS = 'ftp://user:pw@127.0.0.1/drop'
  t.after(() => delete process.env.DECKHAND_NOTIFY_URLS)
  const server = await startTestServer(t, {
    ...FAST_RETRIES,
    env: { DECKHAND_CALLBACK_HOSTS: new URL(hub.url).host },
  })
  await server.api(
    'POST',
    '/api/v1/services',
    commandService('hub', 'echo ok', { image: 'acme/web' }),
  )
  const trigger = await server.api('POST', '/api/v1/services/hub/triggers', { action: 'redeploy' })
  // A callback_url that is not http(s) reaches the outgoing policy, which refuses it out loud.
  for (const callback of [`${hub.url}/down/`, 'file:///etc/passwd']) {
    const payload = JSON.parse(readFixture('dockerhub-push').body.toString())
    payload.callback_url = callback
    const call = await server.hook(trigger.body.url, {
      body: JSON.stringify(payload),
      headers: { 'content-type': 'application/json' },
    })
    await succeeded(server, call.body.deployments[0].id)
  }
  const failures = () => server.logs.filter((line) => line.includes('DH_ERR_NOTIFY_FAILED'))
  await waitFor(() => failures().length === 6, {
    what: 'one failed callback, one refused callback and four refused webhooks',
  })
  assert.equal(hub.at('/down/').length, 4, 'one attempt and three bounded retries')
  assert.equal(failures().filter((line) => line.includes('answered HTTP 503')).length, 1)
  assert.equal(
    failures().filter((line) =>
      line.includes('only http and https URLs are called back, not file:'),
    ).length,
    1,
  )
  assert.equal(
    failures().filter((line) => line.includes('only http and https URLs are posted to, not ftp:'))
      .length,
    4,
  )
  const logs = server.logs.join('\n')
  assert.equal(logs.includes('/down/'), false, 'only the origin is logged')
  assert.equal(logs.includes('user:pw'), false)
})

test('GitHub: a deployment is created for the commit, then in_progress and success statuses, exact bodies', async (t) => {
  const api = await standIn(t, (path, count) => {
    if (path === '/repos/acme/web/deployments') {
      return count === 1 ? [500] : [201, '{"id":4242}']
    }
    return [201, '{}']
  })
  const server = await startTestServer(t, FAST_RETRIES)
  const spec = commandService('gh', 'echo ok', {
    git: { repo: 'acme/web', branch: 'main' },
    github: { token: GITHUB_TOKEN, apiUrl: api.url },
  })
  assert.equal((await server.api('POST', '/api/v1/services', spec)).status, 201)
  const trigger = await server.api('POST', '/api/v1/services/gh/triggers', { action: 'redeploy' })
  const call = await server.hook(trigger.body.url, readFixture('github-push-branch'))
  const id = call.body.deployments[0].id
  await succeeded(server, id)
  const statuses = '/repos/acme/web/deployments/4242/statuses'
  await waitFor(() => api.at(statuses).length === 2)
  const created = api.at('/repos/acme/web/deployments')
  const body = JSON.stringify({
    ref: '9f2c4b7a1d3e5f60718293a4b5c6d7e8f9012345',
    environment: 'gh',
    description: `Deckhand redeploy ${id}`,
    auto_merge: false,
    required_contexts: [],
    payload: { deckhand_deployment: id },
  })
  assert.deepEqual(
    created.map((r) => r.body),
    [body, body],
  )
  const logUrl = `${server.url}/api/v1/deployments/${id}`
  assert.deepEqual(
    api.at(statuses).map((r) => r.body),
    [
      JSON.stringify({
        state: 'in_progress',
        description: 'redeploy of gh started',
        log_url: logUrl,
      }),
      JSON.stringify({
        state: 'success',
        description: 'redeploy of gh succeeded',
        log_url: logUrl,
      }),
    ],
  )
  for (const request of api.received) {
    assert.equal(request.headers.authorization, `Bearer ${GITHUB_TOKEN}`)
    assert.equal(request.headers.accept, 'application/vnd.github+json')
  }
  assert.equal(server.logs.join('\n').includes(GITHUB_TOKEN), false)
})

test('GitHub: the token is never shown, survives a PATCH of another field, and a canceled deployment posts error', async (t) => {
  const api = await standIn(t, (path) =>
    path.endsWith('/deployments') ? [201, '{"id":7}'] : [201, '{}'],
  )
  const server = await startTestServer(t, FAST_RETRIES)
  const spec = commandService('gh', 'sleep 30', {
    git: { repo: 'acme/web', branch: 'main' },
    github: { token: GITHUB_TOKEN, apiUrl: api.url },
  })
  await server.api('POST', '/api/v1/services', spec)
  const shown = await server.api('GET', '/api/v1/services/gh')
  assert.deepEqual(shown.body.github, { apiUrl: api.url, hasToken: true })
  assert.equal(
    JSON.stringify((await server.api('GET', '/api/v1/services')).body).includes(GITHUB_TOKEN),
    false,
  )
  const patched = await server.api('PATCH', '/api/v1/services/gh', { tagPolicy: 'semver-major' })
  assert.equal(patched.status, 200, JSON.stringify(patched.body))
  assert.equal(JSON.stringify(patched.body).includes(GITHUB_TOKEN), false)
  const changed = await server.api('PATCH', '/api/v1/services/gh', {
    github: { apiUrl: `${api.url}/` },
  })
  assert.equal(changed.status, 400, 'a changed github block must carry its token again')
  const trigger = await server.api('POST', '/api/v1/services/gh/triggers', { action: 'redeploy' })
  const call = await server.hook(trigger.body.url, readFixture('github-push-branch'))
  const id = call.body.deployments[0].id
  const statuses = '/repos/acme/web/deployments/7/statuses'
  await waitFor(() => api.at(statuses).length === 1, { what: 'the in_progress status' })
  assert.equal((await server.api('POST', `/api/v1/deployments/${id}/cancel`)).status, 200)
  await succeeded(server, id, 'canceled')
  await waitFor(() => api.at(statuses).length === 2, { what: 'the error status' })
  assert.equal(JSON.parse(api.at(statuses)[1]!.body).state, 'error')
  assert.equal(api.at(statuses)[1]!.headers.authorization, `Bearer ${GITHUB_TOKEN}`)
  assert.equal(server.logs.join('\n').includes(GITHUB_TOKEN), false)
})

test('webhooks: service notify targets (signed JSON, Slack) and DECKHAND_NOTIFY_URLS hear of start and end', async (t) => {
  const hooks = await standIn(t)
  process.env.DECKHAND_NOTIFY_URLS = `${hooks.url}/global, ${hooks.url}/global2`
  t.after(() => delete process.env.DECKHAND_NOTIFY_URLS)
  const server = await startTestServer(t, FAST_RETRIES)
  const notify = [
    { url: `${hooks.url}/json`, format: 'json', secret: 'webhook-secret' },
    { url: `${hooks.url}/slack`, format: 'slack' },
  ]
  assert.equal(
    (await server.api('POST', '/api/v1/services', commandService('told', 'echo ok', { notify })))
      .status,
    201,
  )
  const shown = await server.api('GET', '/api/v1/services/told')
  assert.deepEqual(shown.body.notify, [
    { url: `${hooks.url}/json`, format: 'json', hasSecret: true },
    { url: `${hooks.url}/slack`, format: 'slack' },
  ])
  const trigger = await server.api('POST', '/api/v1/services/told/triggers', { action: 'redeploy' })
  const call = await server.hook(`${trigger.body.url}`)
  const id = call.body.deployments[0].id
  const done = await succeeded(server, id)
  await waitFor(() =>
    ['/json', '/slack', '/global', '/global2'].every((path) => hooks.at(path).length === 2),
  )
  const url = `${server.url}/api/v1/deployments/${id}`
  const view = ({
    id,
    service,
    action,
    state,
    params,
    calls,
    triggerId,
    createdAt,
    startedAt,
    finishedAt,
    error,
  }: any) => ({
    id,
    service,
    action,
    state,
    params,
    calls,
    triggerId,
    createdAt,
    startedAt,
    finishedAt,
    error,
  })
  const started = JSON.stringify({
    event: 'deployment:started',
    deployment: view({ ...done, state: 'running', finishedAt: null }),
    url,
  })
  const ended = JSON.stringify({ event: 'deployment:finished', deployment: view(done), url })
  for (const path of ['/json', '/global', '/global2']) {
    assert.deepEqual(
      hooks.at(path).map((r) => r.body),
      [started, ended],
      path,
    )
  }
  for (const request of hooks.at('/json')) {
    const signature = createHmac('sha256', 'webhook-secret').update(request.body).digest('hex')
    assert.equal(request.headers['x-deckhand-signature'], `sha256=${signature}`)
  }
  assert.equal(hooks.at('/global')[0]!.headers['x-deckhand-signature'], undefined)
  assert.deepEqual(
    hooks.at('/slack').map((r) => r.body),
    [
      JSON.stringify({ text: `Deckhand: redeploy of told started (<${url}|${id}>)` }),
      JSON.stringify({ text: `Deckhand: redeploy of told succeeded (<${url}|${id}>)` }),
    ],
  )
  assert.equal(server.logs.join('\n').includes('webhook-secret'), false)
})

test('notify targets and GitHub API URLs must be http(s)', async (t) => {
  const server = await startTestServer(t)
  const bad = await server.api(
    'POST',
    '/api/v1/services',
    commandService('bad', 'echo ok', { notify: [{ url: 'ftp://example.test/x' }] }),
  )
  assert.equal(bad.status, 400)
  const api = await server.api(
    'POST',
    '/api/v1/services',
    commandService('bad2', 'echo ok', { github: { token: 't', apiUrl: 'file:///x' } }),
  )
  assert.equal(api.status, 400)
  assert.equal(JSON.stringify(api.body).includes('"t"'), false)
})
