/**
 * The hooks fast path takes plain trigger calls and leaves everything else to Fastify: if it
 * stopped matching, every call would quietly take the slow road and the e2e tests would not
 * notice, so its choices are checked here against a stand-in acceptor.
 */
import assert from 'node:assert/strict'
import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import pino from 'pino'
import { EventBus } from '../../events.ts'
import type { Store } from '../../store/store.ts'
import type { CallAcceptor, CallRequest } from '../../triggers/accept-call.ts'
import { hooksFastPath } from './hooks-fast-path.ts'
import { IntakeLimit } from './intake-limit.ts'

const TOKEN = 'a'.repeat(43)
const FASTIFY = 599
let closing = false
const acceptor = {
  accept: async (call: CallRequest) => ({
    status: 202,
    body: { token: call.token, address: call.address, query: call.query, body: call.body.toString() },
  }),
} as unknown as CallAcceptor
const common = { store: {} as Store, events: new EventBus(() => {}), acceptor, intake: new IntakeLimit(), logger: pino({ level: 'silent' }), maxBodyBytes: 64, closing: () => closing }

function serve(trustedProxies: string[]) {
  const fast = hooksFastPath({ ...common, trustedProxies })
  return createServer((req, res) => {
    if (!fast(req, res)) {
      res.writeHead(FASTIFY)
      res.end()
    }
  })
}

const direct = serve([])
const proxied = serve(['127.0.0.1'])
before(async () => {
  await new Promise<void>((resolve) => direct.listen(0, '127.0.0.1', resolve))
  await new Promise<void>((resolve) => proxied.listen(0, '127.0.0.1', resolve))
})
after(() => {
  direct.close()
  proxied.close()
})

function send(server: typeof direct, options: { method?: string; path?: string; body?: string; headers?: Record<string, string>; chunked?: boolean }) {
  const { port } = server.address() as AddressInfo
  return new Promise<{ status: number; json: Record<string, unknown> | undefined }>((resolve, reject) => {
    const body = options.body ?? '{}'
    const req = httpRequest(
      {
        port,
        host: '127.0.0.1',
        method: options.method ?? 'POST',
        path: options.path ?? `/hooks/${TOKEN}`,
        headers: { ...(options.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(Buffer.byteLength(body)) }), ...options.headers },
      },
      (res) => {
        let text = ''
        res.on('data', (chunk) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : undefined }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

test('a plain call is answered by the fast path with its token, address, body and query (a repeated key keeps its last value)', async () => {
  const answer = await send(direct, { path: `/hooks/${TOKEN}?tag=1&tag=2&services=web`, body: '{"x":1}' })
  assert.equal(answer.status, 202)
  assert.deepEqual(answer.json, { token: TOKEN, address: '127.0.0.1', query: { tag: '2', services: 'web' }, body: '{"x":1}' })
})

test('other methods, other paths, chunked or oversized bodies and a closing server go on to Fastify', async () => {
  assert.equal((await send(direct, { method: 'PUT' })).status, FASTIFY)
  assert.equal((await send(direct, { path: `/hooks/${TOKEN}/` })).status, FASTIFY)
  assert.equal((await send(direct, { path: `/hooks/${TOKEN.slice(1)}` })).status, FASTIFY)
  assert.equal((await send(direct, { chunked: true })).status, FASTIFY)
  assert.equal((await send(direct, { body: 'x'.repeat(65) })).status, FASTIFY)
  closing = true
  try {
    assert.equal((await send(direct, {})).status, FASTIFY)
  } finally {
    closing = false
  }
})

test('behind a trusted proxy the caller is the address X-Forwarded-For names; from anyone else the header is ignored', async () => {
  const viaProxy = await send(proxied, { headers: { 'x-forwarded-for': '203.0.113.9' } })
  assert.equal(viaProxy.json?.address, '203.0.113.9')
  const notTrusted = await send(direct, { headers: { 'x-forwarded-for': '203.0.113.9' } })
  assert.equal(notTrusted.json?.address, '127.0.0.1')
})
