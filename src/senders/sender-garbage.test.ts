// Property checks: no body, header or query string makes a sender throw or answer off-contract.
import assert from 'node:assert/strict'
import { it } from 'node:test'

import fc from 'fast-check'

import { FIXTURE_SECRET, fixtureNames, readFixture } from '../../test/fixtures/senders/load.ts'
import { checkProperty } from '../../test/support/check-property.ts'
import { matchesGlob } from '../triggers/path-match.ts'
import { refuseEvent } from './event-limits.ts'
import type { SenderRequest } from './sender.ts'
import { recogniseSender, SENDERS } from './sender-registry.ts'

const RUNS = 300

const HEADER_NAMES = [
  'content-type',
  'x-github-event',
  'x-hub-signature-256',
  'x-hub-signature',
  'x-github-delivery',
  'x-gitlab-event',
  'x-gitlab-token',
  'x-gitlab-event-uuid',
  'idempotency-key',
  'x-event-key',
  'x-request-uuid',
  'x-gitea-event',
  'x-forgejo-event',
  'x-gitea-signature',
  'x-forgejo-signature',
  'x-deckhand-signature',
  'authorization',
]

const EVENT_VALUES = [
  'push',
  'ping',
  'package',
  'registry_package',
  'workflow_run',
  'Push Hook',
  'Tag Push Hook',
  'Pipeline Hook',
  'System Hook',
  'repo:push',
  'application/json',
  'application/x-www-form-urlencoded',
  'Bearer x',
  'sha256=',
  'sha1=00',
]

const fixtures = fixtureNames().map((name) => readFixture(name))
const jsonFixtures = fixtures.filter((fixture) =>
  fixture.body.toString('utf8').trimStart().startsWith('{'),
)

/** Header sets mixing real sender headers, odd values, and values of the wrong runtime type. */
const headersArbitrary = fc.dictionary(
  fc.constantFrom(...HEADER_NAMES),
  fc.oneof(fc.constantFrom(...EVENT_VALUES), fc.string(), fc.constant(undefined)),
)

/** Every path to a value inside a JSON document. */
function pathsOf(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) {
    return [prefix]
  }
  return [
    prefix,
    ...Object.entries(value).flatMap(([key, child]) => pathsOf(child, [...prefix, key])),
  ]
}

function replaceAt(document: unknown, path: string[], replacement: unknown): unknown {
  if (path.length === 0) {
    return replacement
  }
  const copy = structuredClone(document) as Record<string, unknown>
  let cursor = copy
  for (const key of path.slice(0, -1)) {
    cursor = cursor[key] as Record<string, unknown>
  }
  cursor[path.at(-1) as string] = replacement
  return copy
}

const bodyArbitrary = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
  fc
    .constantFrom(...jsonFixtures)
    .chain((fixture) =>
      fc.nat({ max: fixture.body.length }).map((end) => fixture.body.subarray(0, end)),
    ),
  fc.nat({ max: 20000 }).map((depth) => Buffer.from('['.repeat(depth) + ']'.repeat(depth))),
  fc
    .nat({ max: 20000 })
    .map((depth) => Buffer.from('{"a":'.repeat(depth) + '1' + '}'.repeat(depth))),
  fc
    .constantFrom(...jsonFixtures)
    .chain((fixture) =>
      fc
        .integer({ min: 1, max: fixture.body.length - 1 })
        .map((at) =>
          Buffer.concat([
            fixture.body.subarray(0, at),
            Buffer.from([0xc3, 0x28, 0xff]),
            fixture.body.subarray(at),
          ]),
        ),
    ),
  fc.constantFrom(...jsonFixtures).chain((fixture) => {
    const document: unknown = JSON.parse(fixture.body.toString('utf8'))
    return fc
      .tuple(fc.constantFrom(...pathsOf(document)), fc.jsonValue({ maxDepth: 3 }))
      .map(([path, value]) => Buffer.from(JSON.stringify(replaceAt(document, path, value))))
  }),
  fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? '')),
)

function assertOnContract(request: SenderRequest): void {
  const recognised = recogniseSender(request)
  assert.ok(SENDERS.includes(recognised))
  for (const sender of SENDERS) {
    assert.equal(typeof sender.recognise(request), 'boolean')
    assert.ok(['valid', 'invalid', 'missing'].includes(sender.verify(request, FIXTURE_SECRET)))
    const parse = sender.parse(request)
    if (parse.ok) {
      assert.ok(['push', 'ping', 'alert', 'plain'].includes(parse.event.kind))
      // An empty name is refused by the payload caps, with the field named.
      const refused = refuseEvent(parse.event)
      for (const field of [
        'repository',
        'image',
        'tag',
        'branch',
        'commit',
        'deliveryId',
        'callbackUrl',
      ] as const) {
        const value = parse.event[field]
        assert.ok(
          value === undefined ||
            (typeof value === 'string' && (value !== '' || refused !== undefined)),
          `${sender.id} ${field}`,
        )
      }
    } else {
      const reason = 'ignored' in parse ? parse.ignored : parse.invalid
      assert.equal(typeof reason, 'string')
      assert.ok(reason.length > 0 && reason.length < 400, `${sender.id}: ${reason}`)
    }
  }
}

it('no body with any sender header set makes recognise, verify or parse throw', () => {
  fc.assert(
    fc.property(bodyArbitrary, headersArbitrary, (body, headers) => {
      assertOnContract({ headers, body, query: {} })
    }),
    { numRuns: RUNS },
  )
})

it('every fixture with one field replaced by any JSON value stays on contract under its own headers', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...jsonFixtures).chain((fixture) => {
        const document: unknown = JSON.parse(fixture.body.toString('utf8'))
        return fc
          .tuple(fc.constantFrom(...pathsOf(document)), fc.jsonValue({ maxDepth: 3 }))
          .map(([path, value]) => ({
            fixture,
            body: Buffer.from(JSON.stringify(replaceAt(document, path, value))),
          }))
      }),
      ({ fixture, body }) => {
        const headers = Object.fromEntries(
          Object.entries(fixture.headers).map(([k, v]) => [k.toLowerCase(), v]),
        )
        assertOnContract({ headers, body, query: {} })
      },
    ),
    { numRuns: RUNS * 3 },
  )
})

it('headers and query values of the wrong runtime type are treated as absent', () => {
  const odd = {
    'x-github-event': ['push', 'ping'],
    authorization: 42,
    'content-type': null,
  } as unknown
  assertOnContract({
    headers: odd as SenderRequest['headers'],
    body: readFixture('github-push-branch').body,
    query: { tag: ['a', 'b'] } as unknown as SenderRequest['query'],
  })
  assertOnContract({ headers: {}, body: undefined as unknown as Buffer, query: {} })
})

/** The adversarial runs of issue 15: each once cost quadratic time or backtracked somewhere. */
const ADVERSARIAL_UNITS = ['/', '@', '*', ':/', 'a/', '\n@', '%2F', '**/', '..']
const ADVERSARIAL_CHARS = 64 * 1024
/** Far above the linear cost of a 64 KiB field (a few ms), far below the old quadratic one. */
const MAX_PARSE_CPU_MS = 250

/** Paths to every string value of a JSON document. */
function stringPathsOf(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value === 'string') {
    return [prefix]
  }
  if (typeof value !== 'object' || value === null) {
    return []
  }
  return Object.entries(value).flatMap(([key, child]) => stringPathsOf(child, [...prefix, key]))
}

/** Parses as the pipeline does: recognise, verify, parse, the payload caps, the path globs. */
function parseCostMs(request: SenderRequest): number {
  const started = process.threadCpuUsage()
  assertOnContract(request)
  const parse = recogniseSender(request).parse(request)
  if (parse.ok && refuseEvent(parse.event) === undefined) {
    for (const file of parse.event.changedFiles ?? []) {
      matchesGlob('services/**/src/**/*.ts', file)
    }
  }
  const used = process.threadCpuUsage(started)
  return (used.user + used.system) / 1000
}

function fixtureRequest(fixture: (typeof jsonFixtures)[number], body: Buffer): SenderRequest {
  const headers = Object.fromEntries(
    Object.entries(fixture.headers).map(([k, v]) => [k.toLowerCase(), v]),
  )
  return { headers, body, query: {} }
}

it('every string field of every fixture, as a 64 KiB adversarial run, parses on contract in linear time', () => {
  let fields = 0
  for (const fixture of jsonFixtures) {
    const document: unknown = JSON.parse(fixture.body.toString('utf8'))
    for (const [index, path] of stringPathsOf(document).entries()) {
      // Each field meets one unit in turn, so every unit meets every kind of field.
      const unit = ADVERSARIAL_UNITS[(index + fields) % ADVERSARIAL_UNITS.length]!
      const text = `a${unit.repeat(Math.ceil(ADVERSARIAL_CHARS / unit.length))}b`
      const body = Buffer.from(JSON.stringify(replaceAt(document, path, text)))
      const ms = parseCostMs(fixtureRequest(fixture, body))
      assert.ok(ms < MAX_PARSE_CPU_MS, `${fixture.name} ${path.join('.')} (${unit}): ${ms} ms`)
      fields++
    }
  }
  assert.ok(fields > 500, `${fields} fields`)
})

it('any fixture field replaced by a run of any adversarial unit of any length stays on contract', async () => {
  await checkProperty(
    fc.property(
      fc.constantFrom(...jsonFixtures).chain((fixture) => {
        const document: unknown = JSON.parse(fixture.body.toString('utf8'))
        return fc
          .tuple(
            fc.constantFrom(...stringPathsOf(document)),
            fc.constantFrom(...ADVERSARIAL_UNITS),
            fc.integer({ min: 1, max: ADVERSARIAL_CHARS }),
            fc.string({ maxLength: 3 }),
          )
          .map(([path, unit, count, around]) => ({
            fixture,
            body: Buffer.from(
              JSON.stringify(replaceAt(document, path, `${around}${unit.repeat(count)}${around}`)),
            ),
          }))
      }),
      ({ fixture, body }) => {
        const ms = parseCostMs(fixtureRequest(fixture, body))
        assert.ok(ms < MAX_PARSE_CPU_MS, `${fixture.name}: ${ms} ms`)
      },
    ),
    { numRuns: RUNS },
  )
})
