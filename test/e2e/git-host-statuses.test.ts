/**
 * Commit statuses on GitLab, Gitea/Forgejo and Bitbucket Cloud, through the real server with the
 * senders' captured pushes, against 127.0.0.1 stand-ins of each API. The stand-ins check what the
 * real APIs document (method, path, auth header, JSON body, state values) and refuse the rest as
 * those APIs do, so a request Deckhand shapes wrongly fails here.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'

import { FIXTURE_SECRET, readFixture } from '../fixtures/senders/load.ts'
import { commandService, startTestServer, type TestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

const COMMIT = '9f2c4b7a1d3e5f60718293a4b5c6d7e8f9012345'
const GITLAB_TOKEN = 'glpat-statuses-test-token-0123456789'
const GITEA_TOKEN = 'gitea-statuses-test-token-0123456789ab'
const BITBUCKET_TOKEN = 'bitbucket-statuses-test-token-01234567'

interface Accepted {
  path: string
  headers: IncomingHttpHeaders
  body: Record<string, unknown>
}

type Host = 'gitlab' | 'gitea' | 'bitbucket'

interface StandInApi {
  route: RegExp
  states: string[]
  required: string[]
  authorized(headers: IncomingHttpHeaders, token: string): boolean
}

/** Each API's route, auth and states as its documentation gives them (src/notify/*-status.ts). */
const APIS: Record<Host, StandInApi> = {
  // POST /api/v4/projects/:id/statuses/:sha, :id a URL-encoded path; PRIVATE-TOKEN or Bearer.
  gitlab: {
    route: /^\/api\/v4\/projects\/([^/]+)\/statuses\/([0-9a-f]{40})$/,
    states: ['pending', 'running', 'success', 'failed', 'canceled', 'skipped'],
    required: ['state'],
    authorized: (h, token) => h['private-token'] === token || h.authorization === `Bearer ${token}`,
  },
  // POST /api/v1/repos/{owner}/{repo}/statuses/{sha}; Authorization: token ….
  gitea: {
    route: /^\/api\/v1\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]{40})$/,
    states: ['pending', 'success', 'error', 'failure', 'warning'],
    required: ['state'],
    authorized: (h, token) => h.authorization === `token ${token}`,
  },
  // POST /2.0/repositories/{workspace}/{repo_slug}/commit/{commit}/statuses/build; Bearer, Basic.
  bitbucket: {
    route: /^\/2\.0\/repositories\/([^/]+)\/([^/]+)\/commit\/([0-9a-f]{40})\/statuses\/build$/,
    states: ['INPROGRESS', 'SUCCESSFUL', 'FAILED', 'STOPPED'],
    required: ['key', 'state', 'url'],
    authorized: (h, token) =>
      h.authorization === `Bearer ${token}` ||
      h.authorization === `Basic ${Buffer.from(`ci-bot:${token}`).toString('base64')}`,
  },
}

const JSON_TYPE = { 'content-type': 'application/json' }

/** A 127.0.0.1 stand-in of one host's status API; `refuse` makes it answer that status to all. */
async function standIn(t: TestContext, host: Host, token: string, refuse?: number) {
  const api = APIS[host]
  const accepted: Accepted[] = []
  const refused: { path: string; status: number; why: string }[] = []
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const path = request.url ?? ''
      const answer = (status: number, why: string) => {
        refused.push({ path, status, why })
        response.writeHead(status, JSON_TYPE).end(JSON.stringify({ message: why }))
      }
      if (refuse) {
        return answer(refuse, 'told to refuse')
      }
      if (request.method !== 'POST' || !api.route.test(path)) {
        return answer(404, `no route ${request.method} ${path}`)
      }
      if (!api.authorized(request.headers, token)) {
        return answer(401, 'unauthorized')
      }
      if (!String(request.headers['content-type']).startsWith('application/json')) {
        return answer(415, 'not JSON')
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>
      const missing = api.required.filter((field) => typeof body[field] !== 'string')
      if (missing.length || !api.states.includes(String(body.state))) {
        return answer(400, `state or ${missing.join(', ')} invalid`)
      }
      accepted.push({ path, headers: request.headers, body })
      response.writeHead(201, JSON_TYPE).end(JSON.stringify({ id: accepted.length, ...body }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, accepted, refused }
}

const FAST_RETRIES = { notify: { retryDelaysMs: [20, 40] } }
const TOKENS = {
  DECKHAND_GITLAB_TOKEN: GITLAB_TOKEN,
  DECKHAND_GITEA_TOKEN: GITEA_TOKEN,
  DECKHAND_BITBUCKET_TOKEN: BITBUCKET_TOKEN,
}

async function finished(server: TestServer, id: string, state: string) {
  return waitFor(
    async () => {
      const d = await server.api('GET', `/api/v1/deployments/${id}`)
      return d.body.state === state ? d.body : undefined
    },
    { what: `deployment ${id} to be ${state}` },
  )
}

/** Calls a new service's trigger with the fixture and answers the deployment's id. */
async function deployFromFixture(
  server: TestServer,
  spec: Record<string, unknown>,
  fixture: string,
): Promise<string> {
  assert.equal((await server.api('POST', '/api/v1/services', spec)).status, 201)
  const trigger = await server.api('POST', `/api/v1/services/${spec.name}/triggers`, {
    action: 'redeploy',
    secret: FIXTURE_SECRET,
  })
  const call = await server.hook(trigger.body.url, readFixture(fixture))
  assert.equal(call.status, 202, JSON.stringify(call.body))
  return call.body.deployments[0].id as string
}

function assertNoToken(server: TestServer, ...tokens: string[]) {
  const logs = server.logs.join('\n')
  for (const token of tokens) {
    assert.equal(logs.includes(token), false, 'a status token reached the server log')
  }
}

/** What describeOutcome does past 140 characters. */
const cut = (text: string) => (text.length > 140 ? `${text.slice(0, 139)}…` : text)

async function readLog(server: TestServer, id: string): Promise<string> {
  const log = await server.api('GET', `/api/v1/deployments/${id}/log`)
  return log.body.items.map((l: { line: string }) => l.line).join('\n')
}

test('GitLab: pending, running, success on the pushed commit; failed for a failing deploy', async (t) => {
  const gitlab = await standIn(t, 'gitlab', GITLAB_TOKEN)
  const server = await startTestServer(t, { ...FAST_RETRIES, env: TOKENS })
  // The API root on 127.0.0.1 is the operator's configuration, as a self-hosted GitLab's is.
  const block = { gitlab: { apiUrl: `${gitlab.url}/api/v4` } }
  const ok = await deployFromFixture(server, commandService('gl', 'echo ok', block), 'gitlab-push')
  await finished(server, ok, 'succeeded')
  const failing = commandService('glbad', 'echo broken >&2; exit 3', block)
  const broken = await deployFromFixture(server, failing, 'gitlab-push')
  const failed = await finished(server, broken, 'failed')
  await waitFor(() => gitlab.accepted.length === 6, { what: 'six GitLab statuses' })
  assert.deepEqual(gitlab.refused, [])
  const path = `/api/v4/projects/acme%2Fweb/statuses/${COMMIT}`
  const expected = (service: string, id: string, state: string, words: string) => ({
    path,
    body: {
      state,
      name: `deckhand/${service}`,
      target_url: `${server.url}/deployments/${id}`,
      description: cut(`redeploy of ${service} ${words}`),
      ref: 'main',
    },
  })
  const sent = (service: string) =>
    gitlab.accepted
      .filter((a) => a.body.name === `deckhand/${service}`)
      .map(({ path, body }) => ({ path, body }))
  assert.deepEqual(sent('gl'), [
    expected('gl', ok, 'pending', 'queued'),
    expected('gl', ok, 'running', 'started'),
    expected('gl', ok, 'success', 'succeeded'),
  ])
  assert.deepEqual(sent('glbad'), [
    expected('glbad', broken, 'pending', 'queued'),
    expected('glbad', broken, 'running', 'started'),
    expected('glbad', broken, 'failed', `failed: ${failed.error.split('\n')[0]}`),
  ])
  for (const request of gitlab.accepted) {
    assert.equal(request.headers['private-token'], GITLAB_TOKEN)
    assert.equal(request.headers.authorization, undefined)
  }
  assertNoToken(server, GITLAB_TOKEN)
})

test('Gitea/Forgejo: pending, pending (started), success; failure for a failing deploy', async (t) => {
  const gitea = await standIn(t, 'gitea', GITEA_TOKEN)
  const server = await startTestServer(t, { ...FAST_RETRIES, env: TOKENS })
  const block = { gitea: { apiUrl: `${gitea.url}/api/v1` } }
  const ok = await deployFromFixture(server, commandService('gt', 'echo ok', block), 'gitea-push')
  await finished(server, ok, 'succeeded')
  const failing = commandService('gtbad', 'exit 3', block)
  const broken = await deployFromFixture(server, failing, 'gitea-push')
  await finished(server, broken, 'failed')
  await waitFor(() => gitea.accepted.length === 6, { what: 'six Gitea statuses' })
  assert.deepEqual(gitea.refused, [])
  const states = (service: string) =>
    gitea.accepted
      .filter((a) => a.body.context === `deckhand/${service}`)
      .map((a) => [a.path, a.body.state, a.body.description])
  const path = `/api/v1/repos/acme/web/statuses/${COMMIT}`
  assert.deepEqual(states('gt'), [
    [path, 'pending', 'redeploy of gt queued'],
    [path, 'pending', 'redeploy of gt started'],
    [path, 'success', 'redeploy of gt succeeded'],
  ])
  assert.deepEqual(
    states('gtbad').map(([, state]) => state),
    ['pending', 'pending', 'failure'],
  )
  const first = gitea.accepted[0]!
  assert.deepEqual(Object.keys(first.body), ['state', 'target_url', 'description', 'context'])
  assert.equal(first.body.target_url, `${server.url}/deployments/${ok}`)
  assertNoToken(server, GITEA_TOKEN)
})

test('Bitbucket Cloud: INPROGRESS twice, then SUCCESSFUL or FAILED; Bearer, or Basic with a username', async (t) => {
  const bitbucket = await standIn(t, 'bitbucket', BITBUCKET_TOKEN)
  const server = await startTestServer(t, { ...FAST_RETRIES, env: TOKENS })
  const apiUrl = `${bitbucket.url}/2.0`
  const bearer = commandService('bb', 'echo ok', { bitbucket: { apiUrl } })
  const ok = await deployFromFixture(server, bearer, 'bitbucket-push')
  await finished(server, ok, 'succeeded')
  const basic = commandService('bbbad', 'exit 3', { bitbucket: { apiUrl, username: 'ci-bot' } })
  const broken = await deployFromFixture(server, basic, 'bitbucket-push')
  await finished(server, broken, 'failed')
  await waitFor(() => bitbucket.accepted.length === 6, { what: 'six Bitbucket statuses' })
  assert.deepEqual(bitbucket.refused, [])
  const of = (service: string) =>
    bitbucket.accepted.filter((a) => a.body.key === `deckhand-${service}`)
  const phases = [
    ['INPROGRESS', 'queued'],
    ['INPROGRESS', 'started'],
    ['SUCCESSFUL', 'succeeded'],
  ]
  assert.deepEqual(
    of('bb').map((a) => a.body),
    phases.map(([state, words]) => ({
      key: 'deckhand-bb',
      state,
      name: 'deckhand/bb',
      url: `${server.url}/deployments/${ok}`,
      description: `redeploy of bb ${words}`,
      refname: 'main',
    })),
  )
  assert.deepEqual(
    of('bbbad').map((a) => a.body.state),
    ['INPROGRESS', 'INPROGRESS', 'FAILED'],
  )
  const path = `/2.0/repositories/acme/web/commit/${COMMIT}/statuses/build`
  assert.ok(bitbucket.accepted.every((a) => a.path === path))
  assert.ok(of('bb').every((a) => a.headers.authorization === `Bearer ${BITBUCKET_TOKEN}`))
  const credentials = Buffer.from(`ci-bot:${BITBUCKET_TOKEN}`).toString('base64')
  assert.ok(of('bbbad').every((a) => a.headers.authorization === `Basic ${credentials}`))
  assertNoToken(server, BITBUCKET_TOKEN, credentials)
})

test('a refused status or an unset token is in the deployment log, never failing it; the token is redacted', async (t) => {
  const gitlab = await standIn(t, 'gitlab', GITLAB_TOKEN, 401)
  const gitea = await standIn(t, 'gitea', GITEA_TOKEN)
  const env = { DECKHAND_GITLAB_TOKEN: GITLAB_TOKEN }
  const server = await startTestServer(t, { ...FAST_RETRIES, env })
  // A deploy script that prints the token shows it redacted, as every known secret is.
  const spec = commandService('refused', `echo using ${GITLAB_TOKEN}`, {
    gitlab: { apiUrl: `${gitlab.url}/api/v4` },
    gitea: { apiUrl: `${gitea.url}/api/v1`, tokenEnv: 'DECKHAND_GITEA_TOKEN_WEB' },
  })
  const id = await deployFromFixture(server, spec, 'gitlab-push')
  await finished(server, id, 'succeeded')
  const log = await waitFor(
    async () => {
      const text = await readLog(server, id)
      return text.includes('gitlab commit status succeeded') ? text : undefined
    },
    { what: 'the refused final status in the deployment log' },
  )
  for (const phase of ['pending', 'running', 'succeeded']) {
    const line = `gitlab commit status ${phase} to ${gitlab.url} not posted: answered HTTP 401`
    assert.ok(log.includes(line), line)
  }
  const unset = "DECKHAND_GITEA_TOKEN_WEB is not set in Deckhand's environment"
  assert.ok(log.includes(`gitea commit status not posted: ${unset}`), log)
  assert.equal(gitea.accepted.length + gitea.refused.length, 0)
  assert.ok(log.includes('using [redacted]'), log)
  assert.equal(log.includes(GITLAB_TOKEN), false)
  assertNoToken(server, GITLAB_TOKEN)
  const coded = (line: string) =>
    line.includes('DH_ERR_NOTIFY_FAILED') && line.includes('gitlab commit status')
  assert.ok(server.logs.some(coded))
})

test("a call's repository that would climb the API path gets no status; the host stays the operator's", async (t) => {
  const gitlab = await standIn(t, 'gitlab', GITLAB_TOKEN)
  const server = await startTestServer(t, { ...FAST_RETRIES, env: TOKENS })
  const spec = commandService('climb', 'echo ok', { gitlab: { apiUrl: `${gitlab.url}/api/v4` } })
  assert.equal((await server.api('POST', '/api/v1/services', spec)).status, 201)
  const triggers = '/api/v1/services/climb/triggers'
  const trigger = await server.api('POST', triggers, { action: 'redeploy' })
  const payload = JSON.parse(readFixture('gitlab-push').body.toString())
  payload.project.path_with_namespace = 'acme/../../../users'
  // A payload's project URL is the caller's to write; the token never goes there.
  payload.project.web_url = 'http://127.0.0.2:1/acme/web'
  payload.project.git_http_url = 'http://127.0.0.2:1/acme/web.git'
  const headers = { ...readFixture('gitlab-push').headers }
  delete headers['X-Gitlab-Token']
  const call = await server.hook(trigger.body.url, { body: JSON.stringify(payload), headers })
  assert.equal(call.status, 202, JSON.stringify(call.body))
  const id = call.body.deployments[0].id
  await finished(server, id, 'succeeded')
  const refusal = '"acme/../../../users" is not a gitlab repository path (group/…/project)'
  await waitFor(
    async () => {
      const lines = (await readLog(server, id)).split('\n')
      const refused = `gitlab commit status not posted: ${refusal}`
      return lines.filter((line) => line === refused).length === 3
    },
    { what: 'three refused statuses in the log' },
  )
  assert.deepEqual([gitlab.accepted, gitlab.refused], [[], []])
})

test('a block names only its host family of token variables and an http(s) API root without credentials', async (t) => {
  const server = await startTestServer(t)
  const problems = async (extra: Record<string, unknown>) => {
    const spec = commandService('bad', 'echo ok', extra)
    const answer = await server.api('POST', '/api/v1/services', spec)
    assert.equal(answer.status, 400, JSON.stringify(extra))
    return JSON.stringify(answer.body)
  }
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { gitlab: { tokenEnv: 'DECKHAND_ADMIN_TOKEN' } },
      /gitlab\.tokenEnv: must be DECKHAND_GITLAB_TOKEN or start with DECKHAND_GITLAB_TOKEN_/,
    ],
    [{ bitbucket: { tokenEnv: 'DECKHAND_GITLAB_TOKEN' } }, /bitbucket\.tokenEnv/],
    [{ gitea: {} }, /gitea\.apiUrl: must name your server's API root/],
    [
      { gitlab: { apiUrl: 'https://user:glpat-x@gitlab.example.com/api/v4' } },
      /gitlab\.apiUrl: must carry no user, password, query or fragment/,
    ],
    [{ gitlab: { apiUrl: 'https://gitlab.example.com/api/v4?private_token=x' } }, /gitlab\.apiUrl/],
    [{ gitlab: { apiUrl: 'file:///etc/passwd' } }, /gitlab\.apiUrl: must be an http\(s\) URL/],
    [{ gitlab: { username: 'me' } }, /gitlab\.username is not a known field/],
    [{ bitbucket: { username: 'a:b' } }, /bitbucket\.username/],
    [{ gitlab: { token: 'glpat-x' } }, /gitlab\.token is not a known field/],
  ]
  for (const [extra, problem] of cases) {
    assert.match(await problems(extra), problem)
  }
  const created = await server.api(
    'POST',
    '/api/v1/services',
    commandService('good', 'echo ok', {
      gitlab: {},
      gitea: { apiUrl: 'https://gitea.example.com/api/v1/', tokenEnv: 'DECKHAND_GITEA_TOKEN_SHOP' },
      bitbucket: { username: 'ci-bot' },
    }),
  )
  assert.equal(created.status, 201, JSON.stringify(created.body))
  assert.deepEqual(
    [created.body.gitlab, created.body.gitea, created.body.bitbucket],
    [
      { tokenEnv: 'DECKHAND_GITLAB_TOKEN' },
      { apiUrl: 'https://gitea.example.com/api/v1', tokenEnv: 'DECKHAND_GITEA_TOKEN_SHOP' },
      { tokenEnv: 'DECKHAND_BITBUCKET_TOKEN', username: 'ci-bot' },
    ],
  )
  const patched = await server.api('PATCH', '/api/v1/services/good', { replicas: 2 })
  assert.equal(patched.status, 200, JSON.stringify(patched.body))
  assert.deepEqual(patched.body.gitea, created.body.gitea)
})

test("a newer commit joining a queued deployment closes the older commit's pending status", async (t) => {
  const gitlab = await standIn(t, 'gitlab', GITLAB_TOKEN)
  const server = await startTestServer(t, { ...FAST_RETRIES, env: TOKENS })
  const gate = join(server.dataDir, 'go')
  // The first deployment holds the service until the test opens the gate: the second stays queued.
  const script = `while [ ! -e '${gate}' ]; do sleep 0.02; done; echo ok`
  const spec = commandService('moved', script, { gitlab: { apiUrl: `${gitlab.url}/api/v4` } })
  assert.equal((await server.api('POST', '/api/v1/services', spec)).status, 201)
  const trigger = await server.api('POST', '/api/v1/services/moved/triggers', {
    action: 'redeploy',
    secret: FIXTURE_SECRET,
  })
  const fixture = readFixture('gitlab-push')
  const push = (commit: string) => {
    const payload = JSON.parse(fixture.body.toString())
    payload.after = payload.checkout_sha = commit
    // Each push is its own delivery: the fixture's ids would make the later ones duplicates.
    const delivery = { 'X-Gitlab-Event-UUID': `uuid-${commit}`, 'Idempotency-Key': `key-${commit}` }
    const headers = { ...fixture.headers, ...delivery }
    return server.hook(trigger.body.url, { body: JSON.stringify(payload), headers })
  }
  const [first, older, newer] = ['a', 'b', 'c'].map((digit) => digit.repeat(40)) as [
    string,
    string,
    string,
  ]
  const running = (await push(first)).body.deployments[0].id
  await finished(server, running, 'running')
  const queued = (await push(older)).body.deployments[0].id
  const joined = await push(newer)
  assert.equal(joined.body.deployments[0].id, queued, 'the newer call joined the queued deployment')
  writeFileSync(gate, '')
  await finished(server, queued, 'succeeded')
  await waitFor(() => gitlab.accepted.length === 7, { what: 'seven GitLab statuses' })
  const of = (commit: string) =>
    gitlab.accepted
      .filter((a) => a.path.endsWith(commit))
      .map((a) => [a.body.state, a.body.description])
  assert.deepEqual(
    of(first).map(([state]) => state),
    ['pending', 'running', 'success'],
  )
  assert.deepEqual(of(older), [
    ['pending', 'redeploy of moved queued'],
    ['canceled', `redeploy of moved moved on to ${newer.slice(0, 12)}`],
  ])
  assert.deepEqual(of(newer), [
    ['running', 'redeploy of moved started'],
    ['success', 'redeploy of moved succeeded'],
  ])
})

test('a queued deployment canceled through the API posts canceled to GitLab and error to Gitea', async (t) => {
  const gitlab = await standIn(t, 'gitlab', GITLAB_TOKEN)
  const gitea = await standIn(t, 'gitea', GITEA_TOKEN)
  const server = await startTestServer(t, { ...FAST_RETRIES, env: TOKENS })
  const gate = join(server.dataDir, 'go')
  const script = `while [ ! -e '${gate}' ]; do sleep 0.02; done; echo ok`
  const spec = commandService('stop', script, {
    gitlab: { apiUrl: `${gitlab.url}/api/v4` },
    gitea: { apiUrl: `${gitea.url}/api/v1` },
  })
  assert.equal((await server.api('POST', '/api/v1/services', spec)).status, 201)
  const trigger = await server.api('POST', '/api/v1/services/stop/triggers', {
    action: 'redeploy',
    secret: FIXTURE_SECRET,
  })
  const fixture = readFixture('gitea-push')
  const push = async (delivery: string) => {
    // Each push is its own delivery: the fixture's id would make the second a duplicate.
    const headers = { ...fixture.headers, 'X-Gitea-Delivery': delivery }
    const call = await server.hook(trigger.body.url, { body: fixture.body, headers })
    return call.body.deployments[0].id as string
  }
  const running = await push('first-delivery')
  await finished(server, running, 'running')
  const queued = await push('second-delivery')
  assert.notEqual(queued, running)
  assert.equal((await server.api('POST', `/api/v1/deployments/${queued}/cancel`)).status, 200)
  await finished(server, queued, 'canceled')
  writeFileSync(gate, '')
  await finished(server, running, 'succeeded')
  await waitFor(() => gitlab.accepted.length === 5 && gitea.accepted.length === 5, {
    what: 'five statuses on each host',
  })
  const on = (accepted: Accepted[], id: string) =>
    accepted
      .filter((a) => a.body.target_url === `${server.url}/deployments/${id}`)
      .map((a) => a.body.state)
  assert.deepEqual(on(gitlab.accepted, queued), ['pending', 'canceled'])
  assert.deepEqual(on(gitea.accepted, queued), ['pending', 'error'])
  assert.deepEqual(on(gitlab.accepted, running), ['pending', 'running', 'success'])
})
