/** Wrong signatures (401), wrong formats for a pinned sender (400) and redeliveries, through the real endpoint. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import { hmacHex } from '../../src/senders/signature.ts'
import { FIXTURE_SECRET, readFixture } from '../fixtures/senders/load.ts'
import { commandService, startTestServer, type TestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

const GIT = { git: { repo: 'acme/web', branch: 'main' } }

interface SigningCase {
  /** A fixture of this sender, and how it is signed when the sender sent it unsigned. */
  fixture: string
  sign?: 'bearer' | 'deckhand'
  service?: Record<string, unknown>
  /** For senders that send a token rather than sign the body: a wrong one in its header. */
  wrongToken?: Record<string, string>
  /** Signs another sender's body the way this sender would, with none of its event headers. */
  signForeign?: (body: Buffer) => Record<string, string>
}

/** The fixture's headers, plus a signature with the fixture secret when its sender sent none. */
function signedHeaders(name: string, sign?: 'bearer' | 'deckhand'): Record<string, string> {
  const { body, headers } = readFixture(name)
  if (sign === 'deckhand') {
    return {
      ...headers,
      'X-Deckhand-Signature': `sha256=${hmacHex('sha256', FIXTURE_SECRET, body)}`,
    }
  }
  return sign === 'bearer' ? { ...headers, Authorization: `Bearer ${FIXTURE_SECRET}` } : headers
}

function sendFixture(
  server: TestServer,
  url: string,
  name: string,
  headers = readFixture(name).headers,
) {
  return server.hook(url, { body: readFixture(name).body, headers })
}

const bearer = () => ({ Authorization: `Bearer ${FIXTURE_SECRET}` })
const wrongBearer = { Authorization: 'Bearer not-the-secret' }
const SIGNING: Record<string, SigningCase> = {
  github: {
    fixture: 'github-push-branch',
    service: GIT,
    signForeign: (body) => ({
      'X-Hub-Signature-256': `sha256=${hmacHex('sha256', FIXTURE_SECRET, body)}`,
    }),
  },
  gitlab: {
    fixture: 'gitlab-push',
    service: GIT,
    wrongToken: { 'X-Gitlab-Token': 'not-the-secret' },
    signForeign: () => ({ 'X-Gitlab-Token': FIXTURE_SECRET }),
  },
  bitbucket: {
    fixture: 'bitbucket-push',
    service: GIT,
    signForeign: (body) => ({
      'X-Hub-Signature': `sha256=${hmacHex('sha256', FIXTURE_SECRET, body)}`,
    }),
  },
  gitea: {
    fixture: 'gitea-push',
    service: GIT,
    signForeign: (body) => ({ 'X-Gitea-Signature': hmacHex('sha256', FIXTURE_SECRET, body) }),
  },
  generic: { fixture: 'generic-signed' },
  alertmanager: {
    fixture: 'alertmanager-firing-group',
    wrongToken: wrongBearer,
    signForeign: bearer,
  },
  dockerhub: {
    fixture: 'dockerhub-push',
    sign: 'bearer',
    wrongToken: wrongBearer,
    signForeign: bearer,
  },
  harbor: {
    fixture: 'harbor-push-artifact',
    sign: 'bearer',
    wrongToken: wrongBearer,
    signForeign: bearer,
  },
  quay: { fixture: 'quay-push', sign: 'bearer', wrongToken: wrongBearer, signForeign: bearer },
  acr: { fixture: 'acr-push', sign: 'bearer', wrongToken: wrongBearer, signForeign: bearer },
  registry: {
    fixture: 'registry-push',
    sign: 'bearer',
    wrongToken: wrongBearer,
    signForeign: bearer,
  },
}

describe('signatures and formats through POST /hooks/{token}', () => {
  let server: TestServer
  let serial = 0
  before(async () => {
    server = await startTestServer(undefined)
  })
  after(() => server.close())

  /** A fresh service with a trigger; answers the trigger's URL. */
  const triggerFor = async (
    trigger: Record<string, unknown>,
    service: Record<string, unknown> = {},
  ) => {
    const name = `svc-${++serial}`
    assert.equal(
      (await server.api('POST', '/api/v1/services', commandService(name, 'echo ok', service)))
        .status,
      201,
    )
    const created = await server.api('POST', `/api/v1/services/${name}/triggers`, {
      action: 'redeploy',
      ...trigger,
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    return { name, url: created.body.url as string, id: created.body.id as string }
  }

  for (const [sender, c] of Object.entries(SIGNING)) {
    const wrong = c.wrongToken ? 'a wrong token' : 'a body changed after signing'
    it(`${sender}: ${wrong}, or another secret, answers 401 and queues nothing`, async () => {
      const { name, url } = await triggerFor({ secret: FIXTURE_SECRET }, c.service)
      const { body } = readFixture(c.fixture)
      const headers = signedHeaders(c.fixture, c.sign)
      const changed = c.wrongToken
        ? await server.hook(url, { body, headers: { ...headers, ...c.wrongToken } })
        : await server.hook(url, { body: Buffer.concat([body, Buffer.from(' ')]), headers })
      assert.equal(changed.status, 401)
      assert.equal(
        changed.body.error,
        `the ${sender} signature does not match the trigger's secret`,
      )
      const other = await triggerFor({ secret: 'another-secret' }, c.service)
      const wrongSecret = await sendFixture(server, other.url, c.fixture, headers)
      assert.equal(wrongSecret.status, 401)
      assert.equal(
        wrongSecret.body.error,
        `the ${sender} signature does not match the trigger's secret`,
      )
      for (const service of [name, other.name]) {
        assert.deepEqual(
          (await server.api('GET', `/api/v1/deployments?service=${service}`)).body.items,
          [],
        )
      }
      const calls = await server.api('GET', `/api/v1/calls?trigger=${other.id}`)
      assert.deepEqual(
        calls.body.items.map((call: { outcome: string; status: number }) => [
          call.outcome,
          call.status,
        ]),
        [['rejected', 401]],
      )
    })

    if (c.signForeign) {
      const signForeign = c.signForeign
      it(`${sender}: a trigger pinned to ${sender} answers 400 to a correctly signed body of another format`, async () => {
        const { name, url } = await triggerFor({ secret: FIXTURE_SECRET, sender }, c.service)
        const foreign =
          sender === 'dockerhub' || sender === 'harbor' ? 'quay-push' : 'dockerhub-push'
        const { body } = readFixture(foreign)
        const answer = await server.hook(url, {
          body,
          headers: { 'Content-Type': 'application/json', ...signForeign(body) },
        })
        assert.equal(answer.status, 400, JSON.stringify(answer.body))
        assert.equal(typeof answer.body.error, 'string')
        assert.deepEqual(
          (await server.api('GET', `/api/v1/deployments?service=${name}`)).body.items,
          [],
        )
      })
    }
  }

  const REDELIVERIES: [string, string, Record<string, string | undefined>?][] = [
    ['X-GitHub-Delivery', 'github-push-branch'],
    ['Idempotency-Key', 'generic-signed'],
    ['X-Request-UUID', 'bitbucket-push'],
    ['X-Gitea-Delivery', 'gitea-push'],
    ['X-Forgejo-Delivery', 'forgejo-push'],
    ['X-Gitlab-Event-UUID', 'gitlab-push', { 'Idempotency-Key': undefined }],
  ]
  for (const [header, fixture, drop = {}] of REDELIVERIES) {
    it(`a redelivery with the same ${header} answers as the first did and queues nothing new`, async () => {
      const { name, url, id } = await triggerFor({ secret: FIXTURE_SECRET }, GIT)
      const headers = Object.fromEntries(
        Object.entries(readFixture(fixture).headers).filter(([key]) => !(key in drop)),
      )
      const first = await sendFixture(server, url, fixture, headers)
      assert.equal(first.status, 202)
      const again = await sendFixture(server, url, fixture, headers)
      assert.deepEqual(
        { status: again.status, body: again.body },
        { status: first.status, body: first.body },
      )
      const deployments = await server.api('GET', `/api/v1/deployments?service=${name}`)
      assert.equal(deployments.body.items.length, 1)
      assert.equal(deployments.body.items[0].calls, 1)
      const calls = await server.api('GET', `/api/v1/calls?trigger=${id}`)
      assert.deepEqual(
        calls.body.items.map((call: { outcome: string }) => call.outcome),
        ['duplicate', 'queued'],
      )
      await waitFor(
        async () => {
          const d = await server.api('GET', `/api/v1/deployments/${first.body.deployments[0].id}`)
          return d.body.state === 'succeeded'
        },
        { what: 'the first delivery to deploy' },
      )
      const late = await sendFixture(server, url, fixture, headers)
      assert.deepEqual(
        { status: late.status, body: late.body },
        { status: first.status, body: first.body },
      )
      assert.equal(
        (await server.api('GET', `/api/v1/deployments?service=${name}`)).body.items.length,
        1,
      )
    })
  }

  it('a redelivered ping answers the same 200 ignored', async () => {
    const { url } = await triggerFor({ secret: FIXTURE_SECRET }, GIT)
    const first = await sendFixture(server, url, 'github-ping')
    const again = await sendFixture(server, url, 'github-ping')
    assert.equal(first.status, 200)
    assert.deepEqual(again.body, first.body)
  })

  it('no secret is written to the log', () => {
    const logs = server.logs.join('\n')
    assert.equal(logs.includes(FIXTURE_SECRET), false)
    assert.equal(logs.includes('another-secret'), false)
  })
})
