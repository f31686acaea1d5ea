/**
 * The real distribution registry and the docker driver through a real server: its push
 * notifications redeploy, its pull notifications never loop, and private images pull with the
 * credentials of a config.json or a credential helper, and fail clearly without.
 */
import assert from 'node:assert/strict'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { before, test } from 'node:test'

import { FIXTURE_SECRET, readFixture } from '../fixtures/senders/load.ts'
import type { PrivateDockerd } from '../support/private-dockerd.ts'
import { BASE_IMAGE, privateDockerd } from '../support/private-dockerd.ts'
import type { TestRegistry } from '../support/registry.ts'
import { startRegistry } from '../support/registry.ts'
import { startTestServer, type TestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

const handle = await privateDockerd()
const APP = 'dh-registry-app:1'

before(async () => {
  if (handle.engine) {
    const healthy = 'HEALTHCHECK --interval=100ms --timeout=2s --retries=3 CMD true'
    const app = `CMD ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]`
    await handle.engine.buildImage(APP, `FROM ${BASE_IMAGE}\n${healthy}\n${app}\n`)
  }
})

let serial = 0
const unique = (prefix: string): string => `${prefix}-${handle.engine?.runId ?? 'x'}-${++serial}`

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dh-registry-e2e-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function dockerServer(
  t: TestContext,
  engine: PrivateDockerd,
  env: Record<string, string> = {},
) {
  t.after(() => engine.cleanup())
  return startTestServer(t, {
    env: {
      DOCKER_HOST: `unix://${engine.socketPath}`,
      DECKHAND_DRIVERS: 'process,command,docker',
      ...env,
    },
  })
}

/** Runs `image` as a labelled container and makes service `web` of it; answers the container. */
async function webService(
  server: TestServer,
  engine: PrivateDockerd,
  image: string,
  fields: Record<string, unknown>,
): Promise<string> {
  const container = unique('web')
  await engine.run(['--name', container, '--network', 'none', image])
  const created = await server.api('POST', '/api/v1/services', {
    name: 'web',
    driver: 'docker',
    target: { container },
    ...fields,
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  return container
}

const imageOf = (engine: PrivateDockerd, container: string) =>
  engine.docker(['inspect', '--format', '{{.Config.Image}}', container])

async function deploymentsOf(
  server: TestServer,
): Promise<{ id: string; state: string; params: { tag?: string } }[]> {
  return (await server.api('GET', '/api/v1/deployments?service=web')).body.items
}

async function callsOf(
  server: TestServer,
  trigger: string,
): Promise<{ outcome: string; reason: string | null }[]> {
  return (await server.api('GET', `/api/v1/calls?trigger=${trigger}&limit=1000`)).body.items
}

async function logOf(server: TestServer, id: string): Promise<string[]> {
  const items = (await server.api('GET', `/api/v1/deployments/${id}/log`)).body.items
  return items.map((item: { line: string }) => item.line)
}

/** The recorded push event, for `registry/repository:tag`. */
function pushEvent(registry: TestRegistry, repository: string, tag: string): unknown {
  const [event] = JSON.parse(readFixture('registry-push').body.toString('utf8')).events
  event.target.repository = repository
  event.target.tag = tag
  event.request.host = registry.host
  return event
}

test('registry notifications: a tagged push redeploys on its tag, other repositories and the pulls Deckhand causes are ignored, a batch deploys its own image', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  const server = await dockerServer(t, engine)
  const container = unique('web')
  assert.equal(
    (
      await server.api('POST', '/api/v1/services', {
        name: 'web',
        driver: 'docker',
        target: { container },
      })
    ).status,
    201,
  )
  // The registry's notification URL is fixed when it starts: the trigger comes first.
  const created = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    secret: FIXTURE_SECRET,
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const notifying = await startRegistry(t, {
    engine,
    notify: { url: created.body.url, headers: { Authorization: `Bearer ${FIXTURE_SECRET}` } },
  })
  if (!notifying) {
    return
  }
  const followed = `${notifying.host}/acme/web`
  await engine.docker(['tag', APP, `${followed}:1`])
  await engine.run(['--name', container, '--network', 'none', `${followed}:1`])
  const patched = await server.api('PATCH', '/api/v1/services/web', {
    image: followed,
    deploy: { pull: 'always' },
  })
  assert.equal(patched.status, 200, JSON.stringify(patched.body))

  await notifying.push(engine, APP, 'acme/web', '2')

  const [deployment] = await waitFor(
    async () => {
      const items = await deploymentsOf(server)
      return items.length > 0 && items.every((d) => ['succeeded', 'failed'].includes(d.state))
        ? items
        : undefined
    },
    { timeoutMs: 60_000, what: 'the pushed tag to be deployed' },
  )
  assert.equal(deployment?.state, 'succeeded', JSON.stringify(deployment))
  assert.equal(deployment?.params.tag, '2')
  assert.ok((await imageOf(engine, container)).startsWith(`${followed}:2@sha256:`))
  const log = await logOf(server, deployment!.id)
  // Pulled pinned to the digest the registry named for the tag.
  assert.ok(
    log.some(
      (line) =>
        line.startsWith(`pulling ${followed}:2@sha256:`) &&
        line.includes('(deploy.pull is "always")'),
    ),
    log.join('\n'),
  )

  // Deckhand's own pull makes the registry notify "pull" events: ignored, never redeployed.
  const pullIgnored = await waitFor(
    async () =>
      (await callsOf(server, created.body.id)).find(
        (call) => call.outcome === 'ignored' && call.reason?.includes(`"pull" of ${followed}:2`),
      ),
    { timeoutMs: 30_000, what: "the pull notification of Deckhand's pull" },
  )
  assert.match(pullIgnored.reason ?? '', /only pushes of tagged manifests deploy/)
  assert.equal((await deploymentsOf(server)).length, 1, 'the pull queued no second deployment')

  await notifying.push(engine, APP, 'acme/api', '2')

  await waitFor(
    async () =>
      (await callsOf(server, created.body.id)).find(
        (call) =>
          call.outcome === 'ignored' &&
          call.reason?.includes(
            `image ${notifying.host}/acme/api was pushed, service runs ${followed}`,
          ),
      ),
    { timeoutMs: 30_000, what: 'the push of acme/api to be ignored' },
  )
  assert.equal((await deploymentsOf(server)).length, 1, 'acme/api redeployed nothing')
  const outcomes = new Set((await callsOf(server, created.body.id)).map((call) => call.outcome))
  assert.deepEqual([...outcomes].sort(), ['ignored', 'queued'])

  // One call with several events (a registry whose queue backed up): web takes its own push.
  const [pull] = JSON.parse(readFixture('registry-pull').body.toString('utf8')).events
  const batch = JSON.stringify({
    events: [pull, pushEvent(notifying, 'acme/web', '2'), pushEvent(notifying, 'acme/api', '5')],
  })
  const batchTrigger = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    name: 'batch',
  })
  const answer = await server.hook(`${batchTrigger.body.url}?wait=60s`, {
    body: batch,
    headers: { 'Content-Type': 'application/vnd.docker.distribution.events.v1+json' },
  })
  assert.equal(answer.status, 200, JSON.stringify(answer.body))
  assert.equal(answer.body.deployments[0].state, 'succeeded')
  const batched = (await server.api('GET', `/api/v1/deployments/${answer.body.deployments[0].id}`))
    .body
  assert.equal(batched.params.tag, '2')
  const calls = (await server.api('GET', `/api/v1/calls?trigger=${batchTrigger.body.id}`)).body
    .items
  assert.equal(calls[0].sender, 'registry')
})

/**
 * Pushes `acme/private:1` and `:2` to a secure registry (htpasswd, or token auth with `token`);
 * leaves only `:1` on the engine.
 */
async function privateImage(t: TestContext, engine: PrivateDockerd, token = false) {
  const registry = await startRegistry(t, { engine, ...(token ? { token } : { secure: true }) })
  if (!registry?.credentials) {
    return undefined
  }
  const image = `${registry.host}/acme/private`
  await registry.push(engine, APP, 'acme/private', '1')
  await registry.push(engine, APP, 'acme/private', '2')
  await engine.docker(['rmi', `${image}:2`])
  return { registry, image, password: registry.credentials.password }
}

/** Every text the server can show or wrote: its log, the deployments, their logs, the calls. */
async function everythingShown(server: TestServer): Promise<string> {
  const texts = [server.logs.join('\n')]
  for (const deployment of await deploymentsOf(server)) {
    texts.push(
      JSON.stringify((await server.api('GET', `/api/v1/deployments/${deployment.id}`)).body),
    )
    texts.push((await logOf(server, deployment.id)).join('\n'))
  }
  texts.push(JSON.stringify((await server.api('GET', '/api/v1/calls?limit=1000')).body))
  return texts.join('\n')
}

test('a private image fails clearly, touching nothing, without credentials, and pulls with those of a config.json', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  const made = await privateImage(t, engine)
  if (!made) {
    return
  }
  const { registry, image, password } = made
  const dir = await tempDir(t)
  const configPath = join(dir, 'config.json')
  const server = await dockerServer(t, engine, {
    DECKHAND_REGISTRY_AUTH: configPath,
    DECKHAND_REGISTRY_CA: registry.caFile!,
  })
  // The engine has the pushed content (it pushed it): "always" makes it pull, with credentials.
  const container = await webService(server, engine, `${image}:1`, {
    image,
    deploy: { pull: 'always' },
  })
  const before = await engine.docker(['inspect', '--format', '{{.Id}}', container])
  const url = (await server.api('POST', '/api/v1/services/web/triggers', { action: 'redeploy' }))
    .body.url

  const refused = await server.hook(`${url}?tag=2&wait=60s`)

  assert.equal(refused.status, 500, JSON.stringify(refused.body))
  const failed = (await server.api('GET', `/api/v1/deployments/${refused.body.deployments[0].id}`))
    .body
  assert.equal(failed.state, 'failed')
  // The registry is asked for the tag's digest before the engine pulls: its 401 tells first.
  assert.ok(
    failed.error.startsWith(
      `tag 2 of ${image} could not be resolved to a digest, so nothing was changed: `,
    ),
    failed.error,
  )
  assert.ok(
    failed.error.includes(
      `Deckhand has no credentials for ${registry.host} (looked in ${configPath} (absent))`,
    ),
    failed.error,
  )
  assert.equal(
    await engine.docker(['inspect', '--format', '{{.Id}}', container]),
    before,
    'the container was not touched',
  )

  // Read at each pull: a login written now counts without a restart.
  await registry.writeDockerConfig(dir)
  const pulled = await server.hook(`${url}?tag=2&wait=60s`)

  assert.equal(pulled.status, 200, JSON.stringify(pulled.body))
  assert.ok((await imageOf(engine, container)).startsWith(`${image}:2@sha256:`))
  const log = await logOf(server, pulled.body.deployments[0].id)
  assert.ok(
    log.some(
      (line) =>
        line.startsWith(`pulling ${image}:2@sha256:`) &&
        line.endsWith(`with credentials from ${configPath} (auths)`),
    ),
    log.join('\n'),
  )
  const shown = await everythingShown(server)
  assert.equal(shown.includes(password), false, 'the password is shown nowhere')
  assert.equal(shown.includes(Buffer.from(`deckhand:${password}`).toString('base64')), false)
})

test('a private image of a registry in token mode deploys with the credentials of a config.json', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  const made = await privateImage(t, engine, true)
  if (!made?.registry.tokenService) {
    return
  }
  const { registry, image, password } = made
  const tokens = made.registry.tokenService
  const dir = await tempDir(t)
  const configPath = await registry.writeDockerConfig(dir)
  const server = await dockerServer(t, engine, {
    DECKHAND_REGISTRY_AUTH: configPath,
    DECKHAND_REGISTRY_CA: registry.caFile!,
  })
  const container = await webService(server, engine, `${image}:1`, {
    image,
    deploy: { pull: 'always' },
  })
  const url = (await server.api('POST', '/api/v1/services/web/triggers', { action: 'redeploy' }))
    .body.url
  tokens.asked.length = 0

  const pulled = await server.hook(`${url}?tag=2&wait=60s`)

  assert.equal(pulled.status, 200, JSON.stringify(pulled.body))
  const deployment = (
    await server.api('GET', `/api/v1/deployments/${pulled.body.deployments[0].id}`)
  ).body
  assert.match(deployment.digest, /^sha256:[0-9a-f]{64}$/)
  assert.equal(await imageOf(engine, container), `${image}:2@${deployment.digest}`)
  // Deckhand asked the token service for the digest, and the engine for its pull: both granted.
  const asked = tokens.asked
  assert.ok(asked.length >= 2, JSON.stringify(asked))
  assert.ok(asked.every((a) => a.granted && a.scope === 'repository:acme/private:pull'))
  const shown = await everythingShown(server)
  assert.equal(shown.includes(password), false, 'the password is shown nowhere')
})

test('a credential helper named by credHelpers gives the credentials, run with the explicit child environment', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  const made = await privateImage(t, engine)
  if (!made) {
    return
  }
  const { registry, image, password } = made
  const dir = await tempDir(t)
  const helper = `dhtest${serial}`
  const asked = join(dir, 'asked')
  await writeFile(
    join(dir, `docker-credential-${helper}`),
    [
      '#!/bin/sh',
      `[ "$1" = get ] || exit 3`,
      `cat > ${asked}`,
      `env > ${asked}.env`,
      `printf '{"ServerURL":"%s","Username":"deckhand","Secret":"%s"}' "$(cat ${asked})" '${password}'`,
      '',
    ].join('\n'),
  )
  await chmod(join(dir, `docker-credential-${helper}`), 0o755)
  const configPath = join(dir, 'config.json')
  await writeFile(
    configPath,
    JSON.stringify({ auths: { [registry.host]: {} }, credHelpers: { [registry.host]: helper } }),
  )
  // The helper is found on the server's PATH; a variable of Deckhand's own must not reach it.
  const savedPath = process.env.PATH
  process.env.PATH = `${dir}:${savedPath}`
  process.env.DECKHAND_TEST_CANARY = 'canary-of-the-deckhand-process'
  t.after(() => {
    process.env.PATH = savedPath
    delete process.env.DECKHAND_TEST_CANARY
  })
  const server = await dockerServer(t, engine, {
    DECKHAND_REGISTRY_AUTH: configPath,
    DECKHAND_REGISTRY_CA: registry.caFile!,
  })
  // The engine has the pushed content (it pushed it): "always" makes it pull, with credentials.
  const container = await webService(server, engine, `${image}:1`, {
    image,
    deploy: { pull: 'always' },
  })
  const url = (await server.api('POST', '/api/v1/services/web/triggers', { action: 'redeploy' }))
    .body.url

  const pulled = await server.hook(`${url}?tag=2&wait=60s`)

  assert.equal(pulled.status, 200, JSON.stringify(pulled.body))
  assert.ok((await imageOf(engine, container)).startsWith(`${image}:2@sha256:`))
  assert.equal(await readFile(asked, 'utf8'), registry.host)
  const helperEnv = await readFile(`${asked}.env`, 'utf8')
  assert.equal(helperEnv.includes('canary-of-the-deckhand-process'), false, helperEnv)
  const log = await logOf(server, pulled.body.deployments[0].id)
  assert.ok(
    log.some((line) =>
      line.endsWith(
        `with credentials from docker-credential-${helper} (credHelpers of ${configPath})`,
      ),
    ),
    log.join('\n'),
  )
  assert.equal(
    (await everythingShown(server)).includes(password),
    false,
    'the password is shown nowhere',
  )
})
