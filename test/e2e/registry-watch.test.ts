/**
 * Registry watches end to end: the real server, the private dockerd and a real distribution
 * registry. A watch with a tag policy notices a pushed tag within two intervals and deploys it
 * once; a `same` watch redeploys when its tag is pushed again with another image. The watch is
 * refused on services that cannot have one, naming the field.
 */
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'

import { APP, buildImagesBefore, uniqueNames } from '../support/dockerd-setup.ts'
import type { PrivateDockerd } from '../support/private-dockerd.ts'
import { privateDockerd } from '../support/private-dockerd.ts'
import { startRegistry, type TestRegistry } from '../support/registry.ts'
import { startTestServer, type TestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'
import { cliFor } from './cli-support.ts'

const handle = await privateDockerd()
const HEALTHY = 'HEALTHCHECK --interval=100ms --timeout=2s --retries=3 CMD true'
buildImagesBefore(handle, {
  'watch-src:1': `ENV APP_VERSION=1\n${HEALTHY}\n${APP}`,
  'watch-src:2': `ENV APP_VERSION=2\n${HEALTHY}\n${APP}`,
})
const unique = uniqueNames(handle)
const INTERVAL_MS = 10_000

interface Setup {
  engine: PrivateDockerd
  registry: TestRegistry
  server: TestServer
  container: string
  image: string
}

/** A registry holding acme/web:`tag`, a container running it, service `web` watching it. */
async function setup(
  t: TestContext,
  tag: string,
  watch: Record<string, unknown>,
): Promise<Setup | undefined> {
  const engine = handle.use(t)
  const registry = engine && (await startRegistry(t, { engine }))
  if (!engine || !registry) {
    return undefined
  }
  t.after(() => engine.cleanup())
  const image = `${registry.host}/acme/web`
  await registry.push(engine, 'watch-src:1', 'acme/web', tag)
  // The watcher reads the watched services twice a second here, not every 10 s.
  const overrides = {
    env: { DOCKER_HOST: `unix://${engine.socketPath}`, DECKHAND_DRIVERS: 'process,command,docker' },
    watch: { refreshMs: 500 },
  }
  const server = await startTestServer(t, overrides)
  const container = unique('web')
  await engine.run(['--name', container, '--network', 'none', `${image}:${tag}`])
  const created = await server.api('POST', '/api/v1/services', {
    name: 'web',
    driver: 'docker',
    target: { container },
    image,
    tag,
    deploy: { pull: 'always' },
    watch,
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  assert.deepEqual(created.body.watch, watch)
  return { engine, registry, server, container, image }
}

interface WatchView {
  lastCheck: { checkedAt: string; outcome: string; answer: string; digest: string | null } | null
  nextAt: string | null
}

/** Waits for a check made after `after` (ISO), answering it. */
async function checkAfter(server: TestServer, after: string): Promise<WatchView> {
  return waitFor(
    async () => {
      const { body } = await server.api<WatchView>('GET', '/api/v1/services/web/watch')
      return body.lastCheck && body.lastCheck.checkedAt > after ? body : undefined
    },
    { timeoutMs: 3 * INTERVAL_MS, intervalMs: 100, what: `a watch check after ${after}` },
  )
}

async function deploymentsOf(server: TestServer): Promise<any[]> {
  return (await server.api('GET', '/api/v1/deployments?service=web')).body.items
}

/** Waits for the one deployment of `web` to end, answering it. */
async function theDeployment(server: TestServer, what: string): Promise<any> {
  return waitFor(
    async () => {
      const [deployment] = await deploymentsOf(server)
      return deployment && ['succeeded', 'failed'].includes(deployment.state)
        ? deployment
        : undefined
    },
    { timeoutMs: 2.2 * INTERVAL_MS + 60_000, intervalMs: 100, what },
  )
}

async function versionOf(engine: PrivateDockerd, container: string): Promise<string> {
  return engine.docker([
    'inspect',
    '--format',
    '{{range .Config.Env}}{{println .}}{{end}}',
    container,
  ])
}

test('a watch with a tag policy notices a pushed tag within two intervals and deploys it once', async (t) => {
  const s = await setup(t, '1.0.0', { interval: '10s', tags: 'semver-minor' })
  if (!s) {
    return
  }
  const first = await checkAfter(s.server, '')
  assert.equal(first.lastCheck?.outcome, 'unchanged')
  assert.match(first.lastCheck!.answer, /no tag newer than 1\.0\.0 that semver-minor allows/)
  assert.ok(first.nextAt, 'the next check is planned')
  const cli = cliFor(s.server)
  const table = await cli('service', 'watch', 'web')
  assert.equal(table.code, 0, table.stderr)
  assert.match(table.stdout, /^SERVICE\s+INTERVAL\s+TAGS\s+CHECKED\s+OUTCOME\s+NEXT\s+ANSWER/)
  assert.match(
    table.stdout,
    /\nweb\s+10s\s+semver-minor\s+\d+s ago\s+unchanged\s+(in \d+s|due)\s+no tag/,
  )
  const json = await cli('service', 'watch', 'web', '-o', 'json')
  assert.equal(json.code, 0, json.stderr)
  assert.deepEqual(JSON.parse(json.stdout).watch, { interval: '10s', tags: 'semver-minor' })

  const pushed = Date.now()
  await s.registry.push(s.engine, 'watch-src:2', 'acme/web', '1.1.0')
  await s.registry.push(s.engine, 'watch-src:2', 'acme/web', '2.0.0')
  const call = await waitFor(
    async () =>
      (await s.server.api('GET', '/api/v1/calls?limit=10')).body.items.find(
        (c: { sender: string }) => c.sender === 'watch',
      ),
    { timeoutMs: 2.2 * INTERVAL_MS, intervalMs: 100, what: 'a call with sender watch' },
  )
  assert.ok(Date.now() - pushed <= 2.2 * INTERVAL_MS)
  assert.match(call.reason, /watch: 127\.0\.0\.1:\d+\/acme\/web has tag 1\.1\.0 \(was 1\.0\.0\)/)
  const deployment = await theDeployment(s.server, 'the watch deployment to end')
  assert.equal(deployment.state, 'succeeded', deployment.error)
  assert.deepEqual(deployment.params, { tag: '1.1.0' })
  assert.match(await versionOf(s.engine, s.container), /APP_VERSION=2/)

  // The next check finds 1.1.0 running and nothing newer allowed: no second deployment.
  const after = await checkAfter(s.server, deployment.finishedAt)
  assert.equal(after.lastCheck?.outcome, 'unchanged')
  assert.equal((await deploymentsOf(s.server)).length, 1)
  const calls = (await s.server.api('GET', '/api/v1/calls?limit=100')).body.items
  assert.equal(calls.filter((c: { sender: string }) => c.sender === 'watch').length, 1)
})

test('a same watch redeploys its tag when the tag is pushed again with another image', async (t) => {
  const s = await setup(t, 'latest', { interval: '10s', tags: 'same' })
  if (!s) {
    return
  }
  const first = await checkAfter(s.server, '')
  assert.match(first.lastCheck!.answer, /acme\/web:latest is sha256:/)
  const before = first.lastCheck!.digest

  const moved = await s.registry.push(s.engine, 'watch-src:2', 'acme/web', 'latest')
  assert.notEqual(moved, before)
  const deployment = await theDeployment(s.server, 'the watch redeploy to end')
  assert.equal(deployment.state, 'succeeded', deployment.error)
  assert.equal(deployment.digest, moved)
  assert.match(await versionOf(s.engine, s.container), /APP_VERSION=2/)
  const [call] = (await s.server.api('GET', `/api/v1/calls?limit=10`)).body.items
  assert.equal(call.sender, 'watch')
  assert.match(call.reason, /acme\/web:latest moved from sha256:\w+ to sha256:\w+/)

  const after = await checkAfter(s.server, deployment.finishedAt)
  assert.equal(after.lastCheck?.digest, moved)
  assert.equal((await deploymentsOf(s.server)).length, 1)
})

test('a watch is refused with a 400 naming the field: too short an interval, no image, process', async (t) => {
  const server = await startTestServer(t)
  const base = { name: 'web', driver: 'command', target: { redeploy: 'true' } }
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { ...base, image: 'acme/web', watch: { interval: '1s' } },
      /watch\.interval: must be a duration from 10s/,
    ],
    [
      { ...base, image: 'acme/web', watch: { tags: 'newest' } },
      /watch\.tags: must be "same" or a tag policy/,
    ],
    [{ ...base, watch: { interval: '1m' } }, /watch: needs the service's image/],
    [
      { name: 'web', driver: 'process', target: { command: 'true' }, image: 'acme/web', watch: {} },
      /watch: the process driver cannot change image tags/,
    ],
  ]
  for (const [spec, message] of cases) {
    const answer = await server.api('POST', '/api/v1/services', spec)
    assert.equal(answer.status, 400, JSON.stringify(answer.body))
    assert.match(answer.body.error, message)
  }
  const unwatched = await server.api('POST', '/api/v1/services', { ...base, image: 'acme/web' })
  assert.equal(unwatched.status, 201, JSON.stringify(unwatched.body))
  const view = await server.api('GET', '/api/v1/services/web/watch')
  assert.deepEqual(view.body, { service: 'web', watch: null, lastCheck: null, nextAt: null })
  assert.equal((await server.api('GET', '/api/v1/services/nope/watch')).status, 404)
})
