// The distribution registry's envelopes beyond the recorded fixtures: batches, media types,
// malformed events, and which image services a push is for.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { editFixture, loadFixture, readFixture } from '../../test/fixtures/senders/load.ts'
import { resolveCall } from '../calls/resolve-call.ts'
import type { Service, Trigger } from '../model/index.ts'
import { RegistrySender } from './registry-sender.ts'
import type { SenderEvent, SenderRequest } from './sender.ts'
import { recogniseSender } from './sender-registry.ts'

const sender = new RegistrySender()
const HOST = '127.0.0.1:46459'

/** The recorded events of these fixtures, in one envelope, as a backed-up registry sends them. */
function batch(...names: string[]): SenderRequest {
  const events = names.flatMap((name) => JSON.parse(readFixture(name).body.toString('utf8')).events)
  return loadFixture('registry-push', { body: Buffer.from(JSON.stringify({ events })) })
}

/** The recorded push, of `repository:tag` and with `mediaType`. */
function push(repository: string, tag: string | undefined, mediaType?: string): unknown {
  const body = JSON.parse(readFixture('registry-push').body.toString('utf8'))
  const event = body.events[0]
  event.target.repository = repository
  event.target.tag = tag
  event.target.mediaType = mediaType ?? event.target.mediaType
  return event
}

const envelope = (...events: unknown[]): SenderRequest =>
  loadFixture('registry-push', { body: Buffer.from(JSON.stringify({ events })) })

const parsedEvent = (request: SenderRequest): SenderEvent => {
  const parse = sender.parse(request)
  assert.ok(parse.ok, JSON.stringify(parse))
  return parse.event
}

describe('registry sender', () => {
  it('is recognised by its content type, and by its envelope when a relay sends plain JSON', () => {
    assert.equal(recogniseSender(loadFixture('registry-pull')).id, 'registry')
    const relayed = loadFixture('registry-push', {
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(recogniseSender(relayed).id, 'registry')
    const other = loadFixture('generic-signed')
    assert.notEqual(recogniseSender(other).id, 'registry')
  })

  it('reads every tagged manifest push of a batch, in order, and ignores its pulls and blobs', () => {
    const event = parsedEvent(
      envelope(
        ...JSON.parse(readFixture('registry-pull').body.toString('utf8')).events,
        push('acme/web', '2'),
        push('acme/api', '7'),
        push('acme/web', '2'),
        ...JSON.parse(readFixture('registry-push-blob').body.toString('utf8')).events,
      ),
    )
    assert.deepEqual(event.pushes, [
      { image: 'acme/web', tag: '2', registry: HOST },
      { image: 'acme/api', tag: '7', registry: HOST },
    ])
    assert.deepEqual([event.image, event.tag, event.registry], ['acme/api', '7', HOST])
  })

  it('acts on OCI manifests and on Docker and OCI indexes (multi-arch pushes)', () => {
    for (const type of [
      'application/vnd.oci.image.manifest.v1+json',
      'application/vnd.oci.image.index.v1+json',
      'application/vnd.docker.distribution.manifest.list.v2+json',
    ]) {
      assert.equal(parsedEvent(envelope(push('acme/web', '3', type))).tag, '3', type)
    }
  })

  it('ignores a manifest pushed by digest and a schema 1 manifest, saying why', () => {
    assert.deepEqual(sender.parse(envelope(push('acme/web', undefined))), {
      ok: false,
      ignored: `registry event push of a manifest to ${HOST}/acme/web by digest, without a tag: only pushes of tagged manifests deploy`,
    })
    const schema1 = sender.parse(
      envelope(push('acme/web', '1', 'application/vnd.docker.distribution.manifest.v1+prettyjws')),
    )
    assert.ok(!schema1.ok && 'ignored' in schema1 && schema1.ignored.includes('v1+prettyjws'))
  })

  it('names the first events of a batch that has nothing to deploy, and counts the rest', () => {
    const parse = sender.parse(
      batch('registry-pull', 'registry-mount', 'registry-delete', 'registry-push-blob'),
    )
    assert.deepEqual(parse, {
      ok: false,
      ignored:
        `none of the 4 registry events is a push of a tagged manifest: "pull" of ${HOST}/acme/web:1.5.0; ` +
        `"mount" of ${HOST}/acme/api; "delete" of ${HOST}/acme/web:1.5.0; and 1 more`,
    })
  })

  it("answers invalid, naming the field, for envelopes that are not a registry's", () => {
    const cases: [SenderRequest, string][] = [
      [editFixture('registry-push', (body) => delete body.events), '"events" array'],
      [
        editFixture('registry-push', (body) => delete body.events[0].action),
        'events[0] must carry "action"',
      ],
      [
        editFixture('registry-push', (body) => delete body.events[0].target.repository),
        'events[0].target must name "repository"',
      ],
      [envelope(...Array.from({ length: 1001 }, () => push('acme/web', '1'))), 'at most 1000'],
      [
        envelope(...Array.from({ length: 101 }, (_, i) => push('acme/web', `t${i}`))),
        'at most 100',
      ],
    ]
    for (const [request, expected] of cases) {
      const parse = sender.parse(request)
      assert.ok(
        !parse.ok && 'invalid' in parse && parse.invalid.includes(expected),
        `${expected}: ${JSON.stringify(parse)}`,
      )
    }
  })

  it('keeps the first event id as the delivery id, so a retried envelope is a redelivery', () => {
    assert.equal(
      parsedEvent(batch('registry-push', 'registry-pull')).deliveryId,
      '3f699fd4-6785-4fb8-8a3e-741a51ac98f9',
    )
    const keyed = loadFixture('registry-push', { headers: { 'idempotency-key': 'relay-1' } })
    assert.equal(parsedEvent(keyed).deliveryId, 'relay-1')
  })
})

describe('a registry push and the image services of a trigger', () => {
  const trigger = {
    id: 'trg_registry',
    name: 'registry',
    action: 'redeploy',
    allowTag: false,
    passBody: false,
    envFromQuery: [],
  } as unknown as Trigger
  const service = (name: string, image: string, tagPolicy = 'all'): Service =>
    ({ name, image, tag: '1.0.0', tagPolicy, git: null }) as unknown as Service
  const resolve = (event: SenderEvent, services: Service[]) =>
    resolveCall({
      trigger,
      event,
      query: {},
      services,
      body: Buffer.alloc(0),
      canChangeTag: () => true,
    })

  it('matches the registry host and repository, as the service names its image', () => {
    const event = parsedEvent(loadFixture('registry-push'))
    const resolution = resolve(event, [
      service('web', `${HOST}/acme/web:1`),
      service('hub-web', 'acme/web:1'),
      service('other-port', '127.0.0.1:5000/acme/web'),
      service('api', `${HOST}/acme/api`),
    ])
    assert.equal(resolution.kind, 'intents')
    assert.deepEqual(
      resolution.kind === 'intents' ? resolution.intents.map((i) => [i.service, i.params]) : [],
      [['web', { tag: '1.5.0' }]],
    )
    assert.deepEqual(resolution.kind === 'intents' ? resolution.skipped : [], [
      { service: 'hub-web', reason: `image ${HOST}/acme/web was pushed, service runs acme/web:1` },
      {
        service: 'other-port',
        reason: `image ${HOST}/acme/web was pushed, service runs 127.0.0.1:5000/acme/web`,
      },
      {
        service: 'api',
        reason: `image ${HOST}/acme/web was pushed, service runs ${HOST}/acme/api`,
      },
    ])
  })

  it("gives each service of a batch its own image's tag, through its tag policy", () => {
    const event = parsedEvent(
      envelope(push('acme/web', '2.0.0'), push('acme/api', '1.1.0'), push('acme/db', '9')),
    )
    const resolution = resolve(event, [
      service('web', `${HOST}/acme/web`, 'semver-minor'),
      service('api', `${HOST}/acme/api`, 'semver-minor'),
      service('cache', `${HOST}/acme/cache`),
    ])
    assert.ok(resolution.kind === 'intents')
    assert.deepEqual(
      resolution.intents.map((i) => [i.service, i.params]),
      [['api', { tag: '1.1.0' }]],
    )
    // Mismatches are found before tags are checked: cache is skipped first, then web's tag.
    assert.equal(resolution.skipped.length, 2)
    assert.equal(resolution.skipped[1]?.service, 'web')
    assert.deepEqual(resolution.skipped[0], {
      service: 'cache',
      reason: `images ${HOST}/acme/web, ${HOST}/acme/api, ${HOST}/acme/db were pushed, service runs ${HOST}/acme/cache`,
    })
  })
})
