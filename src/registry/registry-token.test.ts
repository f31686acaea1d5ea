/**
 * The token flow of the distribution spec, against an in-test stand-in for a token-auth
 * registry and its realm: the cases a real registry will not produce on demand (odd
 * challenges, answers without a token, oversized answers). The real registry in token mode,
 * and in htpasswd mode, is in registry-client.test.ts.
 */
import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import { test } from 'node:test'

import { parseChallenge } from './registry-auth.ts'
import { RegistryClient, RegistryError } from './registry-client.ts'

const DIGEST = `sha256:${'b'.repeat(64)}`
const BASIC = `Basic ${Buffer.from('ci:s3cret').toString('base64')}`

async function standIn(
  t: TestContext,
  handle: (req: IncomingMessage, res: ServerResponse, host: string) => void,
): Promise<string> {
  let host = ''
  const server = createServer((req, res) => handle(req, res, host))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  return host
}

test('a Bearer challenge is answered with a token from the realm, asked with the basic credentials', async (t) => {
  const seen: { path: string; authorization: string | undefined }[] = []
  const host = await standIn(t, (req, res, self) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization })
    const url = new URL(req.url ?? '/', `http://${self}`)
    if (url.pathname === '/token') {
      const ok =
        req.headers.authorization === BASIC &&
        url.searchParams.get('service') === 'stand-in' &&
        url.searchParams.get('scope') === 'repository:acme/web:pull'
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify(ok ? { token: 'tok-1', expires_in: 300 } : { errors: [{ code: 'DENIED' }] }),
      )
      return
    }
    if (req.headers.authorization !== 'Bearer tok-1') {
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="http://${self}/token",service="stand-in",scope="repository:acme/web:pull"`,
      })
      res.end(
        JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }),
      )
      return
    }
    res.writeHead(200, {
      'docker-content-digest': DIGEST,
      'content-type': 'application/vnd.oci.image.index.v1+json',
    })
    res.end()
  })
  const client = new RegistryClient({
    credentialsFor: () => ({ username: 'ci', password: 's3cret' }),
  })

  assert.equal((await client.manifestDigest(host, 'acme/web', 'latest')).digest, DIGEST)
  // The token is cached: a second resolve goes straight to the registry with it.
  assert.equal((await client.manifestDigest(host, 'acme/web', 'latest')).digest, DIGEST)
  assert.deepEqual(
    seen.map((s) => s.path.split('?')[0]),
    [
      '/v2/acme/web/manifests/latest',
      '/token',
      '/v2/acme/web/manifests/latest',
      '/v2/acme/web/manifests/latest',
    ],
  )
  assert.equal(seen.at(-1)?.authorization, 'Bearer tok-1')

  const anonymous = new RegistryClient()
  await assert.rejects(anonymous.manifestDigest(host, 'acme/web', 'latest'), (error: unknown) => {
    assert.ok(error instanceof RegistryError)
    assert.match(
      error.message,
      /token service of 127\.0\.0\.1:\d+ .*refused an anonymous token: 401 DENIED/,
    )
    return true
  })
})

test('an answer larger than the bound, or slower than the deadline, is refused', async (t) => {
  const host = await standIn(t, (req, res) => {
    if (req.url?.includes('slow')) {
      return // never answers
    }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ tags: Array.from({ length: 5000 }, (_, i) => `tag-${i}`) }))
  })
  const small = new RegistryClient({ maxBytes: 1024, timeoutMs: 300 })
  await assert.rejects(small.listTags(host, 'acme/web'), /more than the 1024 bytes Deckhand reads/)
  await assert.rejects(small.manifestDigest(host, 'acme/web', 'slow'), /no answer within 300 ms/)
})

test('a WWW-Authenticate header is read in one pass and only for Basic or Bearer', () => {
  assert.deepEqual(
    parseChallenge(
      'Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push"',
    ),
    {
      scheme: 'bearer',
      params: {
        realm: 'https://auth.example/token',
        service: 'reg',
        scope: 'repository:a/b:pull,push',
      },
    },
  )
  assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), {
    scheme: 'basic',
    params: { realm: 'Registry Realm' },
  })
  assert.equal(parseChallenge('Negotiate abc'), null)
  assert.equal(parseChallenge(`Bearer ${'x='.repeat(5000)}`), null)
})
