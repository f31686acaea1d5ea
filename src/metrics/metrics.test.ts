// /metrics: valid Prometheus text, and counters that move when calls and deployments happen.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { commandService, startTestServer } from '../../test/support/start-server.ts'
import { waitFor } from '../../test/support/wait-for.ts'

/** Parses the text exposition format strictly enough to catch a malformed line (values as Go's ParseFloat reads them). */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>()
  const types = new Map<string, string>()
  for (const line of text.split('\n')) {
    if (line === '') {
      continue
    }
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line)
    if (meta) {
      if (meta[1] === 'TYPE') {
        assert.match(meta[3]!, /^(counter|gauge|histogram|summary|untyped)$/)
        types.set(meta[2]!, meta[3]!)
      }
      continue
    }
    const sample =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|[Nn]a[Nn]|[+-]Inf)( \d+)?$/.exec(
        line,
      )
    assert.ok(sample, `malformed line: ${line}`)
    samples.set(`${sample[1]}${sample[2] ?? ''}`, Number(sample[3]))
  }
  assert.ok(types.size > 0)
  return samples
}

async function scrape(url: string): Promise<Map<string, number>> {
  const response = await fetch(`${url}/metrics`)
  assert.equal(response.status, 200)
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  return parsePrometheus(await response.text())
}

test('/metrics is Prometheus text with default process metrics and the queue depth', async (t) => {
  const server = await startTestServer(t)
  const samples = await scrape(server.url)
  assert.equal(samples.get('deckhand_queue_depth'), 0)
  assert.equal(samples.get('deckhand_deployments_running'), 0)
  assert.ok(samples.has('process_cpu_user_seconds_total'))
  assert.ok([...samples.keys()].some((key) => key.startsWith('nodejs_eventloop_lag')))
})

test('calls, deployments and durations are counted as they happen', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('m-web', 'echo ok'))
  const { body: trigger } = await server.api('POST', '/api/v1/services/m-web/triggers', {
    action: 'redeploy',
  })
  const call = await server.hook(trigger.url, {
    body: '{}',
    headers: { 'content-type': 'application/json' },
  })
  assert.equal(call.status, 202)
  const id: string = call.body.deployments[0].id
  await waitFor(
    async () => (await server.api('GET', `/api/v1/deployments/${id}`)).body.state === 'succeeded',
    { what: 'deployment' },
  )

  const samples = await waitFor(
    async () => {
      const current = await scrape(server.url)
      return current.get('deckhand_deployments_total{action="redeploy",state="succeeded"}') === 1
        ? current
        : undefined
    },
    { what: 'deployment counted' },
  )
  assert.equal(samples.get('deckhand_calls_total{outcome="queued",sender="generic"}'), 1)
  assert.equal(
    samples.get('deckhand_deployment_duration_seconds_count{action="redeploy",state="succeeded"}'),
    1,
  )

  await server.hook(trigger.url.replace(/[^/]+$/, 'x'.repeat(43)))
  await server.hook(trigger.url, { body: '{}', headers: { 'content-type': 'application/json' } })
  const after = await scrape(server.url)
  const queuedOrJoined =
    (after.get('deckhand_calls_total{outcome="queued",sender="generic"}') ?? 0) +
    (after.get('deckhand_calls_total{outcome="coalesced",sender="generic"}') ?? 0)
  assert.equal(queuedOrJoined, 2)
})
