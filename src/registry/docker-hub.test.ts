/**
 * Docker Hub images resolved to digests at registry-1.docker.io, against a stand-in of Docker
 * Hub's registry and token service on 127.0.0.1 (test/support/docker-hub-stand-in.ts): official
 * images under library/, an anonymous token for public repositories, Basic credentials from a
 * real config.json (under docker login's `https://index.docker.io/v1/`) for private ones.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'

import {
  type DockerHubStandIn,
  HUB_AUTH,
  HUB_REGISTRY,
  startDockerHubStandIn,
} from '../../test/support/docker-hub-stand-in.ts'
import type { DockerClient } from '../drivers/docker/docker-client.ts'
import { resolveDigest } from '../drivers/docker/image-digest.ts'
import type { DriverContext } from '../drivers/driver.ts'
import { RegistryClient, RegistryError } from './registry-client.ts'
import { RegistryCredentials } from './registry-credentials.ts'

const NGINX = `sha256:${'1'.repeat(64)}`
const PRIVATE = `sha256:${'2'.repeat(64)}`
const OWNER = { username: 'acme-ci', password: 'hub-pat-s3cret' }

async function hubWith(t: TestContext): Promise<DockerHubStandIn> {
  const hub = await startDockerHubStandIn(t)
  hub.repositories.set('library/nginx', { tags: { '1.27': NGINX, latest: NGINX } })
  hub.repositories.set('acme/private', { tags: { '2': PRIVATE }, owner: OWNER })
  return hub
}

/** A client as the server builds it, on a config.json holding `auths`, reaching the stand-in. */
async function clientWith(
  t: TestContext,
  hub: DockerHubStandIn,
  auths: Record<string, unknown>,
): Promise<RegistryClient> {
  const dir = await mkdtemp(join(tmpdir(), 'dh-hub-config-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'config.json'), JSON.stringify({ auths }))
  const credentials = new RegistryCredentials(join(dir, 'config.json'), { PATH: '' })
  return new RegistryClient({
    ca: [hub.ca],
    connectTo: hub.connectTo,
    credentialsFor: (host) => credentials.basicFor(host),
  })
}

function context(): DriverContext & { lines: string[] } {
  const lines: string[] = []
  return {
    signal: new AbortController().signal,
    deadline: Date.now() + 60_000,
    deploymentId: 'd-1',
    log: ((line: string) => lines.push(line)) as never,
    lines,
  }
}

// deploy.pull `always` asks the registry and never the engine's copy.
const noEngine = {} as DockerClient

test('an official image resolves at registry-1.docker.io as library/<name>, with an anonymous token', async (t) => {
  const hub = await hubWith(t)
  const client = await clientWith(t, hub, {})

  for (const reference of ['nginx:1.27', 'docker.io/nginx:1.27', 'docker.io/library/nginx:1.27']) {
    const ctx = context()
    const resolved = await resolveDigest(noEngine, client, reference, 'always', ctx)
    assert.deepEqual(resolved, { image: reference, digest: NGINX })
    assert.deepEqual(ctx.lines, [`${reference} is ${NGINX} (asked ${HUB_REGISTRY})`])
  }
  // One token for the scope, asked anonymously as Docker's token API has it, then reused.
  assert.deepEqual(
    hub.requests.map((r) => [r.host, r.method, r.path, r.authorization ?? null]),
    [
      [HUB_REGISTRY, 'HEAD', '/v2/library/nginx/manifests/1.27', null],
      [
        HUB_AUTH,
        'GET',
        '/token?service=registry.docker.io&scope=repository%3Alibrary%2Fnginx%3Apull',
        null,
      ],
      [HUB_REGISTRY, 'HEAD', '/v2/library/nginx/manifests/1.27', 'Bearer hub-token-1'],
      [HUB_REGISTRY, 'HEAD', '/v2/library/nginx/manifests/1.27', 'Bearer hub-token-1'],
      [HUB_REGISTRY, 'HEAD', '/v2/library/nginx/manifests/1.27', 'Bearer hub-token-1'],
    ],
  )
})

test("a private Docker Hub image resolves with docker login's credentials sent to the realm", async (t) => {
  const hub = await hubWith(t)
  const basic = Buffer.from(`${OWNER.username}:${OWNER.password}`).toString('base64')
  const client = await clientWith(t, hub, { 'https://index.docker.io/v1/': { auth: basic } })

  const ctx = context()
  const resolved = await resolveDigest(noEngine, client, 'acme/private:2', 'always', ctx)
  assert.equal(resolved.digest, PRIVATE)
  const token = hub.requests.find((r) => r.host === HUB_AUTH)
  assert.equal(token?.authorization, `Basic ${basic}`)
  assert.match(token!.path, /scope=repository%3Aacme%2Fprivate%3Apull/)
})

test('without credentials, or with wrong ones, a private Docker Hub image is refused saying so', async (t) => {
  const hub = await hubWith(t)
  const anonymous = await clientWith(t, hub, {})
  await assert.rejects(
    resolveDigest(noEngine, anonymous, 'acme/private:2', 'always', context()),
    (error: Error) => {
      assert.equal(error.name, 'DigestRefused')
      assert.match(error.message, /^tag 2 of acme\/private could not be resolved to a digest/)
      assert.match(
        error.message,
        /registry-1\.docker\.io refused anonymous access: insufficient_scope: the token does not allow pulling acme\/private/,
      )
      return true
    },
  )

  const wrong = Buffer.from(`${OWNER.username}:not-the-password`).toString('base64')
  const refused = await clientWith(t, hub, { 'docker.io': { auth: wrong } })
  await assert.rejects(
    refused.manifestDigest(HUB_REGISTRY, 'acme/private', '2'),
    (error: RegistryError) => {
      assert.equal(error.status, 401)
      assert.match(error.message, /token service of registry-1\.docker\.io .* refused the cred/)
      assert.equal(error.message.includes('not-the-password'), false)
      return true
    },
  )
})

test("Docker Hub's tags list is read at registry-1.docker.io with the repository's token", async (t) => {
  const hub = await hubWith(t)
  const client = await clientWith(t, hub, {})
  assert.deepEqual((await client.listTags(HUB_REGISTRY, 'library/nginx')).sort(), [
    '1.27',
    'latest',
  ])
})

test('connectTo reaches loopback only, and a host the stand-in does not play is not asked', async (t) => {
  const hub = await hubWith(t)
  const outside = new RegistryClient({ connectTo: () => ({ host: '192.0.2.1', port: 443 }) })
  await assert.rejects(
    outside.manifestDigest(HUB_REGISTRY, 'library/nginx', '1.27'),
    /connectTo named 192\.0\.2\.1, not a loopback address/,
  )
  const client = await clientWith(t, hub, {})
  await assert.rejects(
    client.manifestDigest('ghcr.io', 'acme/web', '1'),
    /the Docker Hub stand-in does not answer for ghcr\.io/,
  )
  assert.equal(hub.requests.length, 0)
})
