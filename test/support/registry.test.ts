/** The test registry is the real one: the engine pushes to it, it notifies, and auth holds. */
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { request } from 'node:https'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'

import { BASE_IMAGE, privateDockerd } from './private-dockerd.ts'
import { startRegistry } from './registry.ts'
import { waitFor } from './wait-for.ts'

const handle = await privateDockerd()

const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
].join(', ')

test('the engine pushes to a plain registry, whose manifest and push notification Deckhand can see', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  const events: { action: string; repository: string; tag?: string; type: string }[] = []
  let contentType = ''
  const receiver = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
    req.on('end', () => {
      contentType = req.headers['content-type'] ?? ''
      for (const event of JSON.parse(body).events) {
        events.push({
          action: event.action,
          repository: event.target.repository,
          tag: event.target.tag,
          type: event.target.mediaType,
        })
      }
      res.end()
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  t.after(() => receiver.close())
  const port = (receiver.address() as AddressInfo).port
  const registry = await startRegistry(t, {
    engine,
    notify: { url: `http://127.0.0.1:${port}/hooks/x` },
  })
  if (!registry) {
    return
  }
  const digest = await registry.push(engine, BASE_IMAGE, 'acme/web', '1')
  const head = await fetch(`${registry.url}/v2/acme/web/manifests/1`, {
    method: 'HEAD',
    headers: { accept: MANIFEST_TYPES },
  })
  assert.equal(head.status, 200)
  assert.equal(head.headers.get('docker-content-digest'), digest)
  const push = await waitFor(
    () => events.find((event) => event.action === 'push' && event.tag === '1'),
    { what: 'the push notification', timeoutMs: 15_000 },
  )
  assert.equal(push.repository, 'acme/web')
  assert.match(push.type, /manifest/)
  assert.equal(contentType, 'application/vnd.docker.distribution.events.v1+json')
})

test('a secure registry refuses anonymous calls, answers its user over TLS with the CA, and takes pushes after login', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  const registry = await startRegistry(t, { engine, secure: true })
  if (!registry?.ca || !registry.credentials) {
    return
  }
  const { username, password } = registry.credentials
  const get = (authorization?: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        `${registry.url}/v2/`,
        { ca: registry.ca ?? undefined, headers: authorization ? { authorization } : {} },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        },
      )
      req.on('error', reject)
      req.end()
    })
  assert.equal(await get(), 401)
  assert.equal(await get(`Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`), 200)
  assert.match(await registry.push(engine, BASE_IMAGE, 'acme/private', '1'), /^sha256:/)
})
