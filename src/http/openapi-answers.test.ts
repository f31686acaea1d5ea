// Real answers of a running server against the answers /api/openapi.json documents, with every
// object that lists its fields closed: a view that gains a field the document lacks fails here.
import assert from 'node:assert/strict'
import { test } from 'node:test'

// Fastify's own validator (through @fastify/ajv-compiler), with the JSON Schema 2020-12 dialect
// that OpenAPI 3.1 uses; no dependency of ours adds it.
import { Ajv2020 } from 'ajv/dist/2020.js'

import {
  commandService,
  startTestServer,
  type TestServer,
} from '../../test/support/start-server.ts'
import { waitFor } from '../../test/support/wait-for.ts'

type Json = Record<string, unknown>

const BASE = 'https://deckhand.invalid/openapi.json'

/** The document's schemas with every object that lists `properties` closed to others. */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) {
    return schema.map(closed)
  }
  if (typeof schema !== 'object' || schema === null) {
    return schema
  }
  const copy: Json = Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [key, closed(value)]),
  )
  if (copy.properties !== undefined && copy.additionalProperties === undefined) {
    copy.additionalProperties = false
  }
  return copy
}

interface Document {
  paths: Record<string, Record<string, Json>>
}

/** The documented path a request's URL is answered by: literal segments win over templates. */
function templateOf(paths: string[], url: string): string | undefined {
  const parts = url.replace(/\?.*$/, '').split('/')
  const fits = paths.filter((path) => {
    const segments = path.split('/')
    return (
      segments.length === parts.length &&
      segments.every((s, i) => s === parts[i] || /^\{[^}]+\}$/.test(s))
    )
  })
  const literal = (path: string) => path.split('/').filter((s) => !s.startsWith('{')).length
  return fits.sort((a, b) => literal(b) - literal(a))[0]
}

/** Checks answers against the document; remembers which operations were checked. */
class AnswerChecker {
  readonly checked = new Set<string>()
  readonly #document: Document
  readonly #ajv = new Ajv2020({ strict: false, allErrors: true })

  constructor(document: Json) {
    this.#document = document as unknown as Document
    const components = closed(document.components) as Json
    this.#ajv.addSchema({ $id: BASE, components })
  }

  /** Asserts the answer is one the operation documents, as the document describes it. */
  check(method: string, url: string, answer: { status: number; body: unknown }): void {
    const path = templateOf(Object.keys(this.#document.paths), url) ?? url
    const operation = this.#document.paths[path]?.[method.toLowerCase()]
    assert.ok(operation, `${method} ${path} is in the document`)
    const responses = operation.responses as Record<string, Json>
    const response = responses[String(answer.status)] ?? responses[`${String(answer.status)[0]}XX`]
    assert.ok(response, `${method} ${path} documents ${answer.status}: ${JSON.stringify(answer)}`)
    const content = response.content as Record<string, { schema: unknown }> | undefined
    const schema = content?.['application/json']?.schema
    if (schema === undefined) {
      assert.equal(answer.body, undefined, `${method} ${path} ${answer.status} has no body`)
    } else {
      // A reference names the document's components, added above under their own $id.
      const absolute = JSON.stringify(closed(schema)).replaceAll(
        '"#/components/',
        `"${BASE}#/components/`,
      )
      const fixed = this.#ajv.compile(JSON.parse(absolute) as Json)
      assert.ok(
        fixed(answer.body),
        `${method} ${path} ${answer.status}: ${this.#ajv.errorsText(fixed.errors)} in ` +
          JSON.stringify(answer.body),
      )
    }
    this.checked.add(`${method.toLowerCase()} ${path}`)
  }
}

/** The admin API through the checker: every answer it returns has been checked. */
function checkedApi(server: TestServer, checker: AnswerChecker): TestServer['api'] {
  return async (method, path, body) => {
    const answer = await server.api(method, path, body)
    checker.check(method, path, answer)
    return answer
  }
}

test('every answer of the admin API and the trigger URLs is as /api/openapi.json documents it', async (t) => {
  let now = Date.parse('2026-12-05T11:00:00Z')
  // The watcher reads the watched services five times a second, not every 10 s.
  const settings = { clock: () => now, releaseCheckMs: 50, watch: { refreshMs: 200 } }
  const server = await startTestServer(t, settings)
  const document = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as Json
  const checker = new AnswerChecker(document)
  const api = checkedApi(server, checker)
  const hook = async (url: string, init: { body?: string; headers?: Record<string, string> }) => {
    const answer = await server.hook(url, init)
    checker.check('POST', new URL(url).pathname, answer)
    return answer
  }
  const json = { body: '{}', headers: { 'content-type': 'application/json' } }

  await api('GET', '/api/v1/drivers')
  // A service with everything its view can show: hooks, approvals, windows, a watch, notify.
  const full = await api(
    'POST',
    '/api/v1/services',
    commandService('full', 'echo deployed', {
      image: '127.0.0.1:1/acme/full',
      tag: '1',
      git: { repo: 'https://user:pw@git.invalid/acme/full.git', branch: 'main' },
      github: { token: 'gh-secret' },
      gitlab: { tokenEnv: 'DECKHAND_GITLAB_TOKEN' },
      notify: [{ url: 'http://127.0.0.1:1/notify', secret: 'notify-secret' }],
      watch: { interval: '1h' },
      deploy: {
        before: 'true',
        after: { run: 'true', timeout: '5s' },
        retries: 1,
        retryBackoff: '1s',
        skipUnchanged: true,
        approvals: { required: 1, deadline: '2h' },
        windows: [{ days: 'mon-sun', hours: '00:00-23:59', timezone: 'Europe/Berlin' }],
        freezeOnRollback: true,
      },
    }),
  )
  assert.equal(full.status, 201, JSON.stringify(full.body))
  await api('PATCH', '/api/v1/services/full', { scale: { min: 1, max: 4 } })
  await api('GET', '/api/v1/services/full')
  await api('GET', '/api/v1/services?limit=10')
  await waitFor(
    async () =>
      (await api('GET', '/api/v1/services/full/watch')).body.lastCheck !== null || undefined,
    { what: 'the first watch check', timeoutMs: 20_000 },
  )

  // Approvals: a manual deployment awaits a vote; one approves, the next is rejected.
  const awaiting = await api('POST', '/api/v1/services/full/deployments', {})
  assert.equal(awaiting.body.status, 'awaiting-approval', JSON.stringify(awaiting.body))
  const first = awaiting.body.deployments[0].id as string
  await api('GET', `/api/v1/deployments/${first}`)
  await api('POST', `/api/v1/deployments/${first}/approve`, { note: 'looks good' })
  await waitFor(
    async () =>
      (await api('GET', `/api/v1/deployments/${first}`)).body.state === 'succeeded' || undefined,
    { what: `deployment ${first} succeeded`, timeoutMs: 20_000 },
  )
  const second = (await api('POST', '/api/v1/services/full/deployments', { tag: '2' })).body
  await api('POST', `/api/v1/deployments/${second.deployments[0].id}/reject`, { note: 'not now' })
  await api('POST', '/api/v1/services/full/rollback')

  // A freeze holds a trigger call; start overrides it; the freeze is lifted.
  await api('POST', '/api/v1/services', commandService('web'))
  await api('POST', '/api/v1/services/web/freeze', { until: '2h', message: 'release day' })
  const trigger = await api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    sender: 'generic',
  })
  const held = await hook(trigger.body.url, json)
  assert.equal(held.body.status, 'held', JSON.stringify(held.body))
  const heldId = held.body.deployments[0].id as string
  await api('GET', `/api/v1/deployments/${heldId}`)
  const token = new URL(trigger.body.url as string).pathname.split('/').at(-1)!
  const ownAnswer = await server.hook(trigger.body.url, json) // joins the held one
  checker.check('POST', `/hooks/${token}`, ownAnswer)
  const read = await fetch(`${server.url}/hooks/${token}/deployments/${heldId}`)
  checker.check('GET', `/hooks/${token}/deployments/${heldId}`, {
    status: read.status,
    body: await read.json(),
  })
  await api('POST', `/api/v1/deployments/${heldId}/start`, { note: 'hotfix' })
  await api('DELETE', '/api/v1/services/web/freeze')

  // Conditions and waits: ignored, succeeded and failed answers of the trigger URL.
  const matching = await api('POST', '/api/v1/services/web/triggers', {
    name: 'pushes',
    action: 'redeploy',
    match: { header: 'x-event', equals: 'push' },
  })
  await hook(matching.body.url, json)
  now = Date.parse('2026-12-05T11:01:00Z')
  await hook(`${trigger.body.url}?wait=30s`, json)
  await api('POST', '/api/v1/services', commandService('broken', 'exit 3'))
  const brokenTrigger = await api('POST', '/api/v1/services/broken/triggers', {
    action: 'redeploy',
  })
  const failed = await hook(`${brokenTrigger.body.url}?wait=30s`, json)
  assert.equal(failed.status, 500, JSON.stringify(failed.body))

  const queued = await api('POST', '/api/v1/services/web/deployments', { replicas: 2 })
  await api('POST', `/api/v1/deployments/${queued.body.deployments[0].id}/cancel`)
  await api('GET', `/api/v1/deployments/${failed.body.deployments[0].id}`)
  await api('GET', `/api/v1/deployments/${failed.body.deployments[0].id}/log`)
  await api('GET', '/api/v1/deployments?limit=50')
  await api('GET', '/api/v1/calls?limit=50')

  // Triggers, stacks and tokens.
  await api('GET', '/api/v1/services/web/triggers?includeRevoked=true')
  await api('GET', `/api/v1/triggers/${trigger.body.id}`)
  await api('POST', `/api/v1/triggers/${trigger.body.id}/rotate`)
  await api('DELETE', `/api/v1/triggers/${trigger.body.id}`)
  await api('POST', '/api/v1/stacks', { name: 'shop', services: ['web'] })
  await api('PATCH', '/api/v1/stacks/shop', { services: ['web', 'broken'] })
  await api('GET', '/api/v1/stacks/shop')
  await api('GET', '/api/v1/stacks')
  await api('POST', '/api/v1/stacks/shop/triggers', { action: 'redeploy' })
  await api('GET', '/api/v1/stacks/shop/triggers')
  await api('DELETE', '/api/v1/stacks/shop')
  const created = await api('POST', '/api/v1/tokens', { name: 'ci' })
  await api('GET', '/api/v1/tokens')
  await api('DELETE', `/api/v1/tokens/${created.body.id}`)
  await api('DELETE', '/api/v1/services/broken')
  // The event stream stays open; its refusal is the answer a checker can read whole.
  await api('GET', '/api/v1/services/nobody/events')

  const paths = (document as { paths: Record<string, Json> }).paths
  const unchecked = Object.entries(paths)
    .filter(([path]) => path.startsWith('/api/v1/') || path.startsWith('/hooks/{token}/'))
    .flatMap(([path, operations]) => Object.keys(operations).map((m) => `${m} ${path}`))
    .concat(['post /hooks/{token}'])
    .filter((operation) => !checker.checked.has(operation))
  assert.deepEqual(unchecked, [], 'every operation had an answer checked')
})

test('an answer with a field the document does not list fails the check', async (t) => {
  const server = await startTestServer(t)
  const document = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as Json
  const checker = new AnswerChecker(document)
  const answer = await server.api('GET', '/api/v1/drivers')
  checker.check('GET', '/api/v1/drivers', answer)
  const grown = { ...answer, body: { ...answer.body, total: 2 } }
  assert.throws(
    () => checker.check('GET', '/api/v1/drivers', grown),
    /must NOT have additional properties/,
  )
  const nested = structuredClone(answer.body)
  nested.items[0].capabilities.canFly = true
  assert.throws(
    () => checker.check('GET', '/api/v1/drivers', { ...answer, body: nested }),
    /must NOT have additional properties/,
  )
})
