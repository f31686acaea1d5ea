/** The registry client against the real distribution registry: digests, refusals, tags, auth. */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'

import { BASE_IMAGE, privateDockerd } from '../../test/support/private-dockerd.ts'
import { startRegistry } from '../../test/support/registry.ts'
import { RegistryClient, RegistryError, retryAfterMs } from './registry-client.ts'

const handle = await privateDockerd()

test('a tag resolves to the digest the engine pushed, on a plain registry over http', async (t) => {
  const engine = handle.use(t)
  const registry = engine && (await startRegistry(t, { engine }))
  if (!engine || !registry) {
    return
  }
  const pushed = await registry.push(engine, BASE_IMAGE, 'acme/web', '1')
  const client = new RegistryClient()
  const { digest, mediaType } = await client.manifestDigest(registry.host, 'acme/web', '1')
  assert.equal(digest, pushed)
  assert.match(mediaType ?? '', /manifest/)
})

test("a tag the registry does not know is refused with the registry's own answer", async (t) => {
  const engine = handle.use(t)
  const registry = engine && (await startRegistry(t, { engine }))
  if (!engine || !registry) {
    return
  }
  await registry.push(engine, BASE_IMAGE, 'acme/web', '1')
  const client = new RegistryClient()
  await assert.rejects(
    client.manifestDigest(registry.host, 'acme/web', 'nope'),
    (error: unknown) => {
      assert.ok(error instanceof RegistryError)
      assert.equal(error.status, 404)
      assert.match(error.message, /answered 404 for acme\/web:nope .*MANIFEST_UNKNOWN/)
      return true
    },
  )
})

test("tags are listed across the registry's Link pages", async (t) => {
  const engine = handle.use(t)
  const registry = engine && (await startRegistry(t, { engine }))
  if (!engine || !registry) {
    return
  }
  for (const tag of ['1', '2', '3']) {
    await registry.push(engine, BASE_IMAGE, 'acme/web', tag)
  }
  const client = new RegistryClient()
  const tags = await client.listTags(registry.host, 'acme/web', { pageSize: 1 })
  assert.deepEqual(tags.sort(), ['1', '2', '3'])
})

test('a secure registry answers over TLS with its CA and the credentials the client is given, and names what is missing', async (t) => {
  const engine = handle.use(t)
  const registry = engine && (await startRegistry(t, { engine, secure: true }))
  if (!engine || !registry?.ca || !registry.credentials) {
    return
  }
  const pushed = await registry.push(engine, BASE_IMAGE, 'acme/private', '1')
  const asked: string[] = []
  const client = new RegistryClient({
    ca: [registry.ca],
    credentialsFor: (host) => {
      asked.push(host)
      return registry.credentials
    },
  })
  assert.equal((await client.manifestDigest(registry.host, 'acme/private', '1')).digest, pushed)
  assert.deepEqual(asked, [registry.host])

  const anonymous = new RegistryClient({ ca: [registry.ca] })
  await assert.rejects(
    anonymous.manifestDigest(registry.host, 'acme/private', '1'),
    (error: Error) => {
      assert.ok(error instanceof RegistryError)
      assert.match(
        error.message,
        /asks for credentials and Deckhand has none for it; 401 basic realm "deckhand-test"$/,
      )
      return true
    },
  )
  const wrong = new RegistryClient({
    ca: [registry.ca],
    credentialsFor: () => ({ username: 'deckhand', password: 'not-the-password' }),
  })
  await assert.rejects(wrong.manifestDigest(registry.host, 'acme/private', '1'), (error: Error) => {
    assert.match(error.message, /refused the credentials Deckhand has for 127\.0\.0\.1:\d+/)
    assert.doesNotMatch(error.message, /not-the-password/)
    return true
  })
  const untrusted = new RegistryClient({ credentialsFor: () => registry.credentials })
  await assert.rejects(
    untrusted.manifestDigest(registry.host, 'acme/private', '1'),
    /could not be asked: .*certificate/,
  )
})

test('a registry in token mode: the client gets a token from its token service with the credentials, and is refused without them', async (t) => {
  const engine = handle.use(t)
  const registry = engine && (await startRegistry(t, { engine, token: true }))
  if (!engine || !registry?.ca || !registry.credentials || !registry.tokenService) {
    return
  }
  const pushed = await registry.push(engine, BASE_IMAGE, 'acme/tokened', '1')
  const tokens = registry.tokenService
  tokens.asked.length = 0
  const client = new RegistryClient({
    ca: [registry.ca],
    credentialsFor: () => registry.credentials,
  })
  assert.equal((await client.manifestDigest(registry.host, 'acme/tokened', '1')).digest, pushed)
  assert.deepEqual(await client.listTags(registry.host, 'acme/tokened'), ['1'])
  assert.deepEqual(
    tokens.asked.map((a) => a.granted),
    tokens.asked.map(() => true),
  )
  assert.ok(tokens.asked.some((a) => a.scope === 'repository:acme/tokened:pull'))

  const wrong = new RegistryClient({
    ca: [registry.ca],
    credentialsFor: () => ({ username: 'deckhand', password: 'not-the-password' }),
  })
  await assert.rejects(wrong.manifestDigest(registry.host, 'acme/tokened', '1'), (error: Error) => {
    assert.ok(error instanceof RegistryError)
    assert.match(error.message, /token service of 127\.0\.0\.1:\d+ .*refused the credentials/)
    assert.doesNotMatch(error.message, /not-the-password/)
    return true
  })
  const anonymous = new RegistryClient({ ca: [registry.ca] })
  await assert.rejects(
    anonymous.manifestDigest(registry.host, 'acme/tokened', '1'),
    (error: Error) => error instanceof RegistryError && error.status === 401,
  )
})

test("a secure registry's CA is trusted from Docker's certs.d directory, for that host only", async (t) => {
  const engine = handle.use(t)
  const registry = engine && (await startRegistry(t, { engine, secure: true }))
  if (!engine || !registry?.ca || !registry.credentials) {
    return
  }
  const pushed = await registry.push(engine, BASE_IMAGE, 'acme/private', '1')
  const certsDir = await mkdtemp(join(tmpdir(), 'dh-certs-d-'))
  t.after(() => rm(certsDir, { recursive: true, force: true }))
  const credentialsFor = () => registry.credentials
  const client = new RegistryClient({ certsDir, credentialsFor })
  // Another registry's directory does not count; the daemon keys it by host:port.
  await mkdir(join(certsDir, '127.0.0.1:1'))
  await writeFile(join(certsDir, '127.0.0.1:1', 'ca.crt'), registry.ca)
  await assert.rejects(
    client.manifestDigest(registry.host, 'acme/private', '1'),
    /could not be asked: .*certificate/,
  )

  // Read at each request, as the daemon does: no new client needed.
  await mkdir(join(certsDir, registry.host))
  await writeFile(join(certsDir, registry.host, 'ca.crt'), registry.ca)
  assert.equal((await client.manifestDigest(registry.host, 'acme/private', '1')).digest, pushed)
})

const run = promisify(execFile)

/** A CA for client certificates, and a client certificate it signs, as files in `dir`. */
async function makeClientCertificate(dir: string): Promise<{ caFile: string }> {
  const file = (name: string) => join(dir, name)
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  await run('openssl', [
    ...['req', '-x509', ...key, '-keyout', file('client-ca.key'), '-out', file('client-ca.crt')],
    ...['-days', '2', '-subj', '/CN=deckhand test client CA'],
  ])
  await run('openssl', [
    ...['req', ...key, '-keyout', file('client.key'), '-out', file('client.csr')],
    ...['-subj', '/CN=deckhand'],
  ])
  await writeFile(file('client.ext'), 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n')
  await run('openssl', [
    ...['x509', '-req', '-in', file('client.csr'), '-CA', file('client-ca.crt')],
    ...['-CAkey', file('client-ca.key'), '-CAcreateserial', '-out', file('client.cert')],
    ...['-days', '2', '-extfile', file('client.ext')],
  ])
  return { caFile: file('client-ca.crt') }
}

/**
 * Uploads an image of no layers as `repository:tag` through the Registry HTTP API (the engine
 * has no client certificate for this registry, so it cannot push); resolves with its digest.
 */
async function uploadImage(
  registry: { url: string; ca: string; credentials: { username: string; password: string } },
  tls: { cert: string; key: string },
  repository: string,
  tag: string,
): Promise<string> {
  const { username, password } = registry.credentials
  const authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
  const send = (method: string, path: string, body: Buffer, type: string) =>
    new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      const headers = { authorization, 'content-type': type, 'content-length': body.length }
      const req = request(new URL(path, registry.url), { method, ...tls, ca: registry.ca, headers })
      req.on('response', (res) => {
        res.resume()
        resolve({ status: res.statusCode ?? 0, location: res.headers.location })
      })
      req.on('error', reject)
      req.end(body)
    })
  const sha = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: {} }))
  const started = await send('POST', `/v2/${repository}/blobs/uploads/`, Buffer.alloc(0), 'x/y')
  assert.equal(started.status, 202)
  const upload = new URL(started.location!, registry.url)
  upload.searchParams.set('digest', sha(config))
  const put = await send('PUT', `${upload.pathname}${upload.search}`, config, 'x/y')
  assert.equal(put.status, 201)
  const manifestType = 'application/vnd.docker.distribution.manifest.v2+json'
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: manifestType,
      config: {
        mediaType: 'application/vnd.docker.container.image.v1+json',
        size: config.length,
        digest: sha(config),
      },
      layers: [],
    }),
  )
  const pushed = await send('PUT', `/v2/${repository}/manifests/${tag}`, manifest, manifestType)
  assert.equal(pushed.status, 201)
  return sha(manifest)
}

test("a registry that requires a client certificate gets certs.d's client.cert and client.key", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dh-client-cert-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const { caFile } = await makeClientCertificate(dir)
  const registry = await startRegistry(t, { secure: true, clientCas: [caFile] })
  if (!registry?.ca || !registry.credentials) {
    return
  }
  const tls = {
    cert: await readFile(join(dir, 'client.cert'), 'utf8'),
    key: await readFile(join(dir, 'client.key'), 'utf8'),
  }
  const { ca, credentials, url } = registry
  const pushed = await uploadImage({ url, ca, credentials }, tls, 'acme/mtls', '1')
  const certsDir = join(dir, 'certs.d')
  const hostDir = join(certsDir, registry.host)
  await mkdir(hostDir, { recursive: true })
  await writeFile(join(hostDir, 'ca.crt'), ca)
  const client = new RegistryClient({ certsDir, credentialsFor: () => credentials })

  await assert.rejects(client.manifestDigest(registry.host, 'acme/mtls', '1'), (error: Error) => {
    assert.ok(error instanceof RegistryError)
    assert.match(
      error.message,
      new RegExp(
        `^${registry.host.replaceAll('.', '\\.')} asks for a TLS client certificate and ` +
          `Deckhand has none in ${hostDir.replaceAll('.', '\\.')} \\(client\\.cert with client\\.key\\)`,
      ),
    )
    return true
  })

  // A certificate the registry's client CAs did not sign is refused, naming the file.
  await run('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
    ...['-keyout', join(hostDir, 'client.key'), '-out', join(hostDir, 'client.cert')],
    ...['-days', '2', '-subj', '/CN=stranger'],
  ])
  await assert.rejects(client.manifestDigest(registry.host, 'acme/mtls', '1'), (error: Error) =>
    error.message.includes(`refused the client certificate ${hostDir}/client.cert`),
  )

  // Read at each request, as the daemon does: no new client needed.
  await writeFile(join(hostDir, 'client.cert'), tls.cert)
  await writeFile(join(hostDir, 'client.key'), tls.key, { mode: 0o600 })
  assert.equal((await client.manifestDigest(registry.host, 'acme/mtls', '1')).digest, pushed)
})

test('the registry answers If-None-Match on a manifest with 304; its tags list has no ETag', async (t) => {
  const engine = handle.use(t)
  const registry = engine && (await startRegistry(t, { engine }))
  if (!engine || !registry) {
    return
  }
  const pushed = await registry.push(engine, BASE_IMAGE, 'acme/web', '1')
  const client = new RegistryClient()
  const first = await client.manifestIfChanged(registry.host, 'acme/web', '1')
  assert.ok(!first.notModified)
  assert.equal(first.digest, pushed)
  // registry 2.8 sends the digest, quoted, as the manifest's ETag.
  assert.equal(first.etag, `"${pushed}"`)
  const again = await client.manifestIfChanged(registry.host, 'acme/web', '1', {
    etag: first.etag,
  })
  assert.deepEqual(again, { notModified: true })
  const tags = await client.tagsIfChanged(registry.host, 'acme/web')
  assert.deepEqual(tags, { notModified: false, etag: null, tags: ['1'] })
})

test('a Retry-After in seconds or as a date is read in milliseconds', () => {
  const now = Date.parse('2026-01-01T00:00:00Z')
  assert.equal(retryAfterMs('120', now), 120_000)
  assert.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000)
  assert.equal(retryAfterMs('soon', now), null)
  assert.equal(retryAfterMs(null, now), null)
})
