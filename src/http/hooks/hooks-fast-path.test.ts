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

import type { CallAcceptor, CallRequest } from '../../calls/accept-call.ts'
import { EventBus } from '../../events.ts'
import type { Store } from '../../store/store.ts'
import { hooksFastPath } from './hooks-fast-path.ts'
import { FLOOR, IntakeLimit } from './intake-limit.ts'

const TOKEN = 'a'.repeat(43)
const FASTIFY = 599
let closing = false
const acceptor = {
  accept: async (call: CallRequest) => ({
    status: 202,
    body: {
      token: call.token,
      address: call.address,
      query: call.query,
      body: call.body.toString(),
    },
  }),
} as unknown as CallAcceptor
const intake = new IntakeLimit()
const events = new EventBus(() => {})
const common = {
  store: {} as Store,
  events,
  acceptor,
  intake,
  logger: pino({ level: 'silent' }),
  maxBodyBytes: 64,
  closing: () => closing,
}

function serve(trustedProxies: string[], maxBodyBytes = common.maxBodyBytes) {
  const fast = hooksFastPath({ ...common, maxBodyBytes, trustedProxies })
  return createServer((req, res) => {
    if (!fast(req, res)) {
      res.writeHead(FASTIFY)
      res.end()
    }
  })
}

const direct = serve([])
const proxied = serve(['127.0.0.1'])
const roomy = serve([], 4 * 1024 * 1024)
before(async () => {
  for (const server of [direct, proxied, roomy]) {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  }
})
after(() => {
  for (const server of [direct, proxied, roomy]) {
    server.close()
  }
})

function send(
  server: typeof direct,
  options: {
    method?: string
    path?: string
    body?: string
    headers?: Record<string, string>
    chunked?: boolean
  },
) {
  const { port } = server.address() as AddressInfo
  type Answer = { status: number; json: Record<string, unknown> | undefined; retryAfter?: string }
  return new Promise<Answer>((resolve, reject) => {
    const body = options.body ?? '{}'
    const req = httpRequest(
      {
        port,
        host: '127.0.0.1',
        method: options.method ?? 'POST',
        path: options.path ?? `/hooks/${TOKEN}`,
        headers: {
          ...(options.chunked
            ? { 'transfer-encoding': 'chunked' }
            : { 'content-length': String(Buffer.byteLength(body)) }),
          ...options.headers,
        },
      },
      (res) => {
        let text = ''
        res.on('data', (chunk) => (text += chunk))
        res.on('end', () => {
          const json = text ? JSON.parse(text) : undefined
          resolve({ status: res.statusCode!, json, retryAfter: res.headers['retry-after'] })
        })
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

test('a plain call is answered by the fast path with its token, address, body and query (a repeated key keeps its last value)', async () => {
  const answer = await send(direct, {
    path: `/hooks/${TOKEN}?tag=1&tag=2&services=web`,
    body: '{"x":1}',
  })
  assert.equal(answer.status, 202)
  assert.deepEqual(answer.json, {
    token: TOKEN,
    address: '127.0.0.1',
    query: { tag: '2', services: 'web' },
    body: '{"x":1}',
  })
})

test('a body that arrives in many reads, and an empty one, reach the acceptor whole', async () => {
  // Loopback reads are at most 64 KiB: 2 MiB come in dozens of chunks, copied as they arrive.
  const large = Array.from({ length: 2 * 1024 * 1024 }, (_, i) =>
    String.fromCharCode(97 + (i % 26)),
  )
  const body = large.join('')
  assert.equal((await send(roomy, { body })).json?.body, body)
  assert.equal((await send(roomy, { body: '' })).json?.body, '')
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

test('at the intake bound a call is shed before its body is read: 503, Retry-After, no acceptor', async () => {
  let shed = 0
  const off = events.on('call:shed', () => {
    shed += 1
  })
  for (let n = 0; n < FLOOR; n++) {
    assert.ok(intake.tryEnter())
  }
  try {
    const answer = await headersOnly(direct)
    assert.equal(answer.status, 503, 'answered though the body was never sent')
    assert.equal(answer.retryAfter, '1')
    assert.equal(answer.json.code, 'DH_ERR_HOOK_OVERLOADED')
    assert.equal(answer.json.token, undefined, 'the acceptor never saw it')
    assert.equal(shed, 1)
  } finally {
    for (let n = 0; n < FLOOR; n++) {
      intake.leave()
    }
    off()
  }
  assert.equal((await send(direct, {})).status, 202, 'below the bound again, calls are accepted')
})

/** Sends a call's headers, declaring a body it never sends, and resolves with the answer. */
function headersOnly(server: typeof direct) {
  const { port } = server.address() as AddressInfo
  type Answer = { status: number; retryAfter?: string; json: Record<string, unknown> }
  const options = { port, host: '127.0.0.1', method: 'POST', path: `/hooks/${TOKEN}` }
  return new Promise<Answer>((resolve, reject) => {
    const req = httpRequest({ ...options, headers: { 'content-length': '7' } }, (res) => {
      let text = ''
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () => {
        const retryAfter = res.headers['retry-after']
        resolve({ status: res.statusCode!, retryAfter, json: JSON.parse(text) })
        req.destroy()
      })
    })
    req.on('error', reject)
    req.flushHeaders()
  })
}
