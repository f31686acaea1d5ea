// Promise: floods of bad tokens, idle or slow connections and huge bodies do not stop valid calls.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Agent, request as httpRequest } from 'node:http'
import type { Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'

import { encodeRequest, openSocket, sendRaw } from '../support/raw-http.ts'
import { commandService, startTestServer, type TestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

interface Answer {
  status: number
  retryAfter: string | undefined
  body: string
}

/** POST through a keep-alive agent bound to one source address. */
function post(agent: Agent, url: string, body = ''): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: 'POST', agent, headers: { 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'],
            body: text,
          }),
        )
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

describe('promise: floods do not stop valid calls', () => {
  let server: TestServer
  let port: number
  let triggerUrl: string
  before(async () => {
    // Debug request lines for 20,000 calls would only fill memory here.
    server = await startTestServer(undefined)
    server.logger.level = 'warn'
    port = Number(new URL(server.url).port)
    assert.equal(
      (await server.api('POST', '/api/v1/services', commandService('web', 'true'))).status,
      201,
    )
    const trigger = await server.api('POST', '/api/v1/services/web/triggers', {
      action: 'redeploy',
      rateLimit: '100000/min',
    })
    triggerUrl = trigger.body.url
  })
  after(() => server.close())

  it('20,000 random tokens from one address get 429 after a few tries, while valid calls from any address keep working', async () => {
    const attacker = new Agent({ keepAlive: true, maxSockets: 48, localAddress: '127.0.0.1' })
    const other = new Agent({ keepAlive: true, maxSockets: 2, localAddress: '127.0.0.2' })
    const statuses = new Map<number, number>()
    let withoutRetryAfter = 0
    let next = 0
    const flood = async () => {
      while (next < 20_000) {
        next += 1
        const answer = await post(
          attacker,
          `${server.url}/hooks/${randomBytes(32).toString('base64url')}`,
          '{}',
        )
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
        if (answer.status === 429 && answer.retryAfter === undefined) {
          withoutRetryAfter += 1
        }
      }
    }
    const valid: number[] = []
    const startedMs = Date.now()
    const flooding = Promise.all(Array.from({ length: 48 }, flood))
    // A valid call from 127.0.0.2 after every 1,000 flood calls, all through the flood. Not
    // back to back: each commit is a synchronous fsync, and the flood is what is measured.
    for (let k = 1; k < 20; k += 1) {
      await waitFor(() => next >= k * 1000, { timeoutMs: 120_000, what: `${k * 1000} flood calls` })
      valid.push((await post(other, triggerUrl, '{}')).status)
    }
    await flooding
    // The guard allows 30 failures per address per minute; a slow machine may span two minutes.
    const windows = Math.ceil((Date.now() - startedMs) / 60_000)
    attacker.destroy()
    other.destroy()
    const counts = Object.fromEntries(statuses)
    assert.equal(
      statuses.get(429)! + (statuses.get(404) ?? 0),
      20_000,
      `only 404 and 429: ${JSON.stringify(counts)}`,
    )
    assert.ok(
      (statuses.get(404) ?? 0) <= 30 * windows,
      `429 after a small threshold: ${JSON.stringify(counts)}`,
    )
    assert.equal(withoutRetryAfter, 0, 'every 429 says when to retry')
    assert.deepEqual(
      [...new Set(valid)],
      [202],
      `valid calls from 127.0.0.2 during the flood: ${valid}`,
    )
    // Valid calls are never limited by address, not even the flooding one's.
    const fromAttacker = new Agent({ localAddress: '127.0.0.1' })
    assert.equal((await post(fromAttacker, triggerUrl, '{}')).status, 202)
    fromAttacker.destroy()
  })

  it('1,000 idle and slow (slowloris) connections do not stop calls from being served', async (t) => {
    const sockets: Socket[] = []
    const slow: Socket[] = []
    const cut = new Set<Socket>()
    t.after(() => {
      for (const socket of sockets) {
        socket.destroy()
      }
    })
    const drips: NodeJS.Timeout[] = []
    t.after(() => drips.forEach(clearInterval))
    // Sources across 127.0.1.x–127.0.4.x, so the guard's per-address view is not what is tested.
    const opened = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        openSocket({ port, localAddress: `127.0.${1 + (i % 4)}.${1 + (i % 250)}` }),
      ),
    )
    for (const [i, socket] of opened.entries()) {
      socket.on('error', () => {})
      sockets.push(socket)
      if (i % 2 === 1) {
        slow.push(socket)
        socket.on('close', () => cut.add(socket))
        socket.on('end', () => cut.add(socket))
        // Slowloris: a request whose headers never end, one byte at a time.
        socket.write(`POST /hooks/${'a'.repeat(43)} HTTP/1.1\r\nhost: x\r\nx-a: `)
        const drip = setInterval(() => socket.writable && socket.write('a'), 1000)
        drip.unref()
        drips.push(drip)
      }
    }
    const valid = new Agent({ localAddress: '127.0.0.2' })
    assert.equal((await post(valid, triggerUrl, '{}')).status, 202)
    const openWhileServed = sockets.filter((s) => !s.destroyed && !cut.has(s)).length
    for (let i = 0; i < 4; i += 1) {
      assert.equal((await post(valid, triggerUrl, '{}')).status, 202)
    }
    const api = await fetch(`${server.url}/api/v1/services`, {
      headers: { authorization: `Bearer ${server.token}` },
    })
    assert.equal(api.status, 200)
    valid.destroy()
    assert.ok(
      openWhileServed > 900,
      `the connections were open while a call was served (${openWhileServed})`,
    )
    // And the server does not keep them: headersTimeout (10 s, checked every 5 s) cuts every
    // request whose headers are still dripping in.
    await waitFor(() => cut.size === slow.length, {
      timeoutMs: 45_000,
      what: `the server to cut 500 slow requests (${cut.size} so far)`,
    })
  })

  it('the server cuts slow headers and idle connections with the timeouts an operator would choose', () => {
    const http = server.app.server
    // Senders send their headers in one packet; a request still sending them after 10 s is an attack.
    assert.equal(http.headersTimeout, 10_000)
    // A 1 MiB body over a slow link still fits; a request dribbled for longer does not.
    assert.equal(http.requestTimeout, 30_000)
    // A connection that sends nothing is held no longer than a slow request may take.
    assert.equal(http.timeout, 30_000)
    // Longer than the 5 s Node default, for senders that reuse connections; short for idle ones.
    assert.equal(http.keepAliveTimeout, 10_000)
  })

  it('a ?wait= call and a followed log outlive the idle timeout that cuts silent sockets (regression)', async (t) => {
    // The idle timeout shrunk to 1.5 s stands in for the real 30 s: the bug was the same either way.
    const quick = await startTestServer(t, { plugins: [(app) => void app.server.setTimeout(1500)] })
    await quick.api('POST', '/api/v1/services', commandService('slow', 'sleep 3.5; echo done'))
    const { url } = (
      await quick.api('POST', '/api/v1/services/slow/triggers', { action: 'redeploy' })
    ).body
    const waiting = quick.hook(`${url}?wait=60s`)
    const deployment = await waitFor(
      async () => (await quick.api('GET', '/api/v1/deployments')).body.items[0],
      { what: 'the deployment' },
    )
    const followed = await fetch(`${quick.url}/api/v1/deployments/${deployment.id}/log?follow=1`, {
      headers: { authorization: `Bearer ${quick.token}` },
    })
    const text = await followed.text()
    const waited = await waiting
    assert.equal(waited.status, 200, 'the wait answered with the outcome, not a reset')
    assert.equal(waited.body.status, 'succeeded')
    assert.match(text, /event: end/, 'the stream lasted until the deployment ended')
    assert.match(text, /: keep-alive/)
  })

  it('a 10 MiB body is answered 413 at the limit, before the client has finished sending', async () => {
    const body = Buffer.alloc(10 * 1024 * 1024, 0x61)
    for (const chunked of [false, true]) {
      const callsBefore = (await server.api('GET', '/api/v1/calls?limit=1000')).body.items.length
      const socket = await openSocket({ port, localAddress: '127.0.0.3' })
      let answer = ''
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')))
      socket.on('error', () => {})
      const path = new URL(triggerUrl).pathname
      socket.write(
        `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\n` +
          (chunked
            ? 'transfer-encoding: chunked\r\n\r\n'
            : `content-length: ${body.length}\r\n\r\n`),
      )
      // Sends 64 KiB at a time, only while no answer has come: the server must answer first.
      let sent = 0
      while (sent < body.length && answer === '' && !socket.destroyed) {
        const piece = body.subarray(sent, sent + 64 * 1024)
        const frame = chunked
          ? Buffer.concat([
              Buffer.from(`${piece.length.toString(16)}\r\n`),
              piece,
              Buffer.from('\r\n'),
            ])
          : piece
        const flushed = socket.write(frame)
        sent += piece.length
        if (!flushed) {
          await waitFor(() => socket.writableLength === 0 || answer !== '' || socket.destroyed, {
            timeoutMs: 60_000,
            what: 'the socket to drain or an answer',
          })
        }
      }
      await waitFor(() => answer.includes('\r\n\r\n') || socket.destroyed, {
        timeoutMs: 60_000,
        what: 'the answer',
      })
      socket.destroy()
      assert.match(
        answer,
        /^HTTP\/1\.1 413 /,
        `${chunked ? 'chunked' : 'content-length'}: ${answer.slice(0, 80)}`,
      )
      assert.ok(sent < body.length, `answered after ${sent} of ${body.length} bytes`)
      const callsAfter = (await server.api('GET', '/api/v1/calls?limit=1000')).body.items.length
      assert.equal(callsAfter, callsBefore, 'nothing recorded')
    }
    // The server still serves after both.
    const answer = await sendRaw(
      encodeRequest({
        method: 'POST',
        path: new URL(triggerUrl).pathname,
        headers: [],
        body: Buffer.from('{}'),
      }),
      { port },
    )
    assert.deepEqual(answer.statuses, [202])
  })
})
