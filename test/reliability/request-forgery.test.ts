// Promise: a URL a call names (Docker Hub's callback_url) never makes Deckhand reach this host or its networks.
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it, type TestContext } from 'node:test'

import { readFixture } from '../fixtures/senders/load.ts'
import { commandService, startTestServer, type TestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

/** A listener on 127.0.0.1 that records every request and answers `answer`. */
async function listener(
  t: TestContext,
  answer: (port: number) => [number, Record<string, string>],
) {
  const received: IncomingMessage[] = []
  const server = createServer((request, response) => {
    received.push(request)
    request.resume()
    const [status, headers] = answer(port)
    response.writeHead(status, headers).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const port = (server.address() as AddressInfo).port
  return { port, received }
}

/** Calls a fresh service's trigger with the Docker Hub fixture naming `callback`; resolves its log once the callback is settled. */
async function deployWithCallback(
  server: TestServer,
  name: string,
  callback: string,
  settled: RegExp | undefined,
) {
  await server.api(
    'POST',
    '/api/v1/services',
    commandService(name, 'echo ok', { image: 'acme/web' }),
  )
  const trigger = await server.api('POST', `/api/v1/services/${name}/triggers`, {
    action: 'redeploy',
  })
  const payload = JSON.parse(readFixture('dockerhub-push').body.toString())
  payload.callback_url = callback
  const call = await server.hook(trigger.body.url, {
    body: JSON.stringify(payload),
    headers: { 'content-type': 'application/json' },
  })
  assert.equal(call.status, 202)
  const id = call.body.deployments[0].id
  return waitFor(
    async () => {
      const deployment = await server.api('GET', `/api/v1/deployments/${id}`)
      if (deployment.body.state !== 'succeeded') {
        return undefined
      }
      const log = (await server.api('GET', `/api/v1/deployments/${id}/log`)).body.items
        .map((l: { line: string }) => l.line)
        .join('\n')
      return settled === undefined || settled.test(log) ? log : undefined
    },
    { what: `deployment ${id} of ${name} to succeed with its callback settled` },
  )
}

/** startServer reads `notify` beside the settings; retries are short so a refusal is not waited for. */
const fastRetries = (env: Record<string, string>) => {
  const overrides = { env, notify: { retryDelaysMs: [10, 10, 10] } }
  return overrides
}

describe('promise: no request forgery', () => {
  it('callback_url forms that point at loopback reach nothing, the deployment succeeds, its log names the refusal', async (t) => {
    const trap = await listener(t, () => [200, {}])
    const allowed = await listener(t, () => [
      302,
      { location: `http://127.0.0.1:${trap.port}/after-redirect` },
    ])
    // The operator lists the stand-in's address and port; localhost is listed by name, so it must resolve public.
    const server = await startTestServer(
      t,
      fastRetries({ DECKHAND_CALLBACK_HOSTS: `127.0.0.1:${allowed.port},localhost` }),
    )
    const p = trap.port
    const forms: [string, RegExp | undefined][] = [
      ['file:///etc/passwd', /not delivered: only http and https URLs are called back, not file:/],
      [
        `gopher://127.0.0.1:${p}/_GET`,
        /not delivered: only http and https URLs are called back, not gopher:/,
      ],
      [
        `http://127.0.0.1:${p}/direct`,
        /not delivered: 127\.0\.0\.1:\d+ is not in DECKHAND_CALLBACK_HOSTS/,
      ],
      [
        `http://user:pass@127.0.0.1:${allowed.port}/creds`,
        /not delivered: a callback URL carrying credentials \(userinfo\) is refused/,
      ],
      [`http://[::1]:${p}/v6`, /not delivered: \[::1\]:\d+ is not in DECKHAND_CALLBACK_HOSTS/],
      [
        `http://0x7f.1:${p}/hex`,
        /not delivered: 127\.0\.0\.1:\d+ is not in DECKHAND_CALLBACK_HOSTS/,
      ],
      [
        `http://2130706433:${p}/decimal`,
        /not delivered: 127\.0\.0\.1:\d+ is not in DECKHAND_CALLBACK_HOSTS/,
      ],
      [
        `http://[::ffff:127.0.0.1]:${p}/mapped`,
        /not delivered: \[::ffff:7f00:1\]:\d+ is not in DECKHAND_CALLBACK_HOSTS/,
      ],
      [`http://localhost:${p}/by-name`, /not delivered: localhost resolves to a refused address/],
      [`http://127.0.0.1:${allowed.port}/redirect`, /not delivered: answered HTTP 302/],
    ]
    for (const [index, [callback, settled]] of forms.entries()) {
      const log = await deployWithCallback(server, `forged${index}`, callback, settled)
      assert.equal(log.includes('user:pass'), false, 'credentials never reach the log')
    }
    assert.deepEqual(
      trap.received.map((r) => r.url),
      [],
      'the loopback trap received nothing',
    )
    assert.deepEqual(
      allowed.received.map((r) => r.url),
      ['/redirect'],
      'only the allowed callback was sent, once, its redirect not followed',
    )
  })

  it('by default a callback only goes to Docker Hub: a loopback callback is refused without a request', async (t) => {
    const trap = await listener(t, () => [200, {}])
    const server = await startTestServer(t, fastRetries({}))
    const log = await deployWithCallback(
      server,
      'plain',
      `http://127.0.0.1:${trap.port}/`,
      /not in DECKHAND_CALLBACK_HOSTS/,
    )
    assert.match(log, /docker hub callback to http:\/\/127\.0\.0\.1:\d+ not delivered/)
    assert.equal(trap.received.length, 0)
  })
})
