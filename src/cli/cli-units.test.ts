// Pure parts of the CLI: tables, SSE framing, scale counts, flags turned into request bodies.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

import type { Command } from 'commander'

import { buildProgram } from './cli.ts'
import { parseScaleCount } from './commands/actions.ts'
import { buildServiceSpec, parseHealth } from './commands/service.ts'
import { mergePatchBetween, patchFromPairs } from './commands/service-edit.ts'
import { matchJson, triggerSpecFromFlags } from './commands/trigger.ts'
import { readSse } from './follow.ts'
import { describeObject, firstLine, formatAge, formatTable } from './output.ts'

test('tables align columns to their widest cell and show missing values as -', () => {
  const text = formatTable(
    [
      { name: 'web', replicas: 2, image: null },
      { name: 'payments', replicas: 10, image: 'acme/pay' },
    ],
    [
      { header: 'NAME', value: (r) => r.name },
      { header: 'REPLICAS', value: (r) => r.replicas, right: true },
      { header: 'IMAGE', value: (r) => r.image },
    ],
  )
  assert.equal(
    text,
    'NAME      REPLICAS  IMAGE\nweb              2  -\npayments        10  acme/pay\n',
  )
  assert.equal(formatAge('2024-01-01T00:00:00Z', Date.parse('2024-01-01T02:30:00Z')), '2h ago')
})

test('SSE events are split on blank lines, whatever the chunking', async () => {
  const text =
    'event: log\ndata: {"line":"a"}\n\n: keep-alive\n\nevent: end\r\ndata: {"state":\ndata: "succeeded"}\r\n\r\n'
  const bytes = new TextEncoder().encode(text)
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 7) {
        controller.enqueue(bytes.slice(i, i + 7))
      }
      controller.close()
    },
  })
  const events = []
  for await (const event of readSse(stream)) {
    events.push(event)
  }
  assert.deepEqual(events, [
    { event: 'log', data: '{"line":"a"}' },
    { event: 'end', data: '{"state":\n"succeeded"}' },
  ])
})

test('scale counts: n sets, +n and -n step', () => {
  assert.deepEqual(parseScaleCount('3'), { action: 'scale', replicas: 3 })
  assert.deepEqual(parseScaleCount('+2'), { action: 'scale-up', by: 2 })
  assert.deepEqual(parseScaleCount('-1'), { action: 'scale-down', by: 1 })
  assert.throws(() => parseScaleCount('+0'))
  assert.throws(() => parseScaleCount('two'))
})

test('service flags become the fields of PRODUCT.md 5a, on top of a file', async () => {
  const spec = await buildServiceSpec('web', {
    driver: 'process',
    command: 'node server.js',
    env: { A: '1' },
    replicas: 2,
    basePort: 4100,
    health: 'http:/healthz',
    min: 1,
    max: 5,
    healthTimeout: '30s',
    rollback: false,
    gitRepo: 'acme/web',
  })
  assert.deepEqual(spec, {
    name: 'web',
    driver: 'process',
    target: {
      command: 'node server.js',
      env: { A: '1' },
      basePort: 4100,
      health: { http: '/healthz' },
      replicas: 2,
    },
    scale: { min: 1, max: 5 },
    git: { repo: 'acme/web' },
    deploy: { healthTimeout: '30s', rollback: false },
  })
  const command = await buildServiceSpec('jobs', {
    driver: 'command',
    command: 'make deploy',
    scaleCommand: 'make scale',
    env: {},
    rollback: true,
  })
  assert.deepEqual(command.target, { redeploy: 'make deploy', scale: 'make scale' })
  assert.deepEqual(parseHealth('running:2s'), { runningFor: '2s' })
  assert.deepEqual(parseHealth('tcp'), { tcp: true })
})

test('trigger flags send only the options given, so server defaults stay defaults', () => {
  assert.deepEqual(triggerSpecFromFlags({ action: 'redeploy', allowTag: true }), {
    action: 'redeploy',
  })
  assert.deepEqual(
    triggerSpecFromFlags({
      action: 'scale-up',
      by: 2,
      allowIps: ['10.0.0.0/8'],
      passBody: false,
      allowTag: false,
      cooldown: '5m',
    }),
    {
      action: 'scale-up',
      by: 2,
      allowIps: ['10.0.0.0/8'],
      passBody: false,
      cooldown: '5m',
      allowTag: false,
    },
  )
  const match = matchJson('{"body":"ref","equals":"refs/heads/main"}')
  assert.deepEqual(triggerSpecFromFlags({ action: 'redeploy', allowTag: true, match }), {
    action: 'redeploy',
    match,
  })
  assert.throws(() => matchJson('ref=main'), /expected a JSON object/)
  assert.throws(() => matchJson('[1]'), /expected a JSON object/)
})

test('table cells: an object on one line, an error cut to its first line', () => {
  assert.equal(
    describeObject({ command: 'node a.js', env: { A: '1' }, health: { http: '/' } }),
    'command=node a.js env.A=1 health.http=/',
  )
  assert.equal(describeObject(null), null)
  assert.equal(firstLine('boom\nstack line'), 'boom …')
  assert.equal(firstLine('x'.repeat(80), 10), `${'x'.repeat(9)}…`)
  assert.equal(firstLine(null), null)
})

test('docs/cli.md names every command and every long flag the CLI has', () => {
  const doc = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8')
  const program = buildProgram(
    { stdout: () => {}, stderr: () => {}, env: {}, now: () => 0 },
    () => {},
  )
  const missing: string[] = []
  const walk = (command: Command, path: string[]) => {
    if (path.length > 0 && !doc.includes(`deckhand ${path.join(' ')}`)) {
      missing.push(`command: deckhand ${path.join(' ')}`)
    }
    for (const option of command.options) {
      if (option.long && !doc.includes(option.long)) {
        missing.push(`${path.join(' ') || 'deckhand'} ${option.long}`)
      }
    }
    for (const sub of command.commands) {
      walk(sub, [...path, sub.name()])
    }
  }
  walk(program, [])
  assert.deepEqual(missing, [])
})

test('service set pairs become one nested merge patch; edit sends changes and nulls for removals', () => {
  assert.deepEqual(
    patchFromPairs(['scale.max=8', 'scale.min=1', 'target.command=node a.js', 'tag="7"', 'x=null']),
    {
      scale: { max: 8, min: 1 },
      target: { command: 'node a.js' },
      tag: '7',
      x: null,
    },
  )
  assert.throws(() => patchFromPairs(['scale=3', 'scale.max=4']), /earlier pair set to a value/)
  assert.throws(() => patchFromPairs(['constructor.x=1']), /is not path=value/)
  assert.deepEqual(
    mergePatchBetween(
      { target: { command: 'a', cwd: '/srv' }, scale: { min: 0, max: 4 }, image: 'web' },
      { target: { command: 'b' }, scale: { min: 0, max: 4 } },
    ),
    { image: null, target: { cwd: null, command: 'b' } },
  )
})
