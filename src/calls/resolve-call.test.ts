// resolveCall as a table: which services a call deploys, with which action and tag, or why not.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import type { DriverName, Service, Trigger } from '../model/index.ts'
import type { SenderEvent } from '../senders/sender.ts'
import { type Resolution, resolveCall } from './resolve-call.ts'

const service = (name: string, extra: Partial<Service> = {}): Service => ({
  name,
  driver: 'docker',
  target: {},
  image: null,
  tag: null,
  git: null,
  scale: { min: 1, max: 5 },
  tagPolicy: 'all',
  deploy: { order: 'start-first', healthTimeoutMs: 60_000, pull: 'missing', rollback: true },
  replicas: 2,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  ...extra,
})

const trigger = (extra: Partial<Trigger> = {}): Trigger => ({
  id: 'trg_1',
  name: 'deploy',
  action: 'redeploy',
  by: 1,
  sender: 'auto',
  secret: null,
  allowIps: [],
  passBody: false,
  envFromQuery: [],
  secretEnvFromQuery: [],
  allowTag: true,
  reverseOnResolve: false,
  cooldownMs: 0,
  rateLimit: { count: 60, perMs: 60_000 },
  service: 'web',
  stack: null,
  createdAt: '2026-01-01T00:00:00Z',
  revokedAt: null,
  ...extra,
})

const TAGLESS: readonly DriverName[] = ['process']

interface Case {
  name: string
  trigger?: Partial<Trigger>
  event: SenderEvent
  query?: Record<string, string>
  services?: Service[]
  /** Each intent as `service action params`, or the kind and reason of a call queuing none. */
  expect: string[] | { kind: 'ignored' | 'refused'; reason: RegExp }
  /** The services whose `?tag=` was not taken, with why. */
  notes?: RegExp[]
}

const cases: Case[] = [
  {
    name: 'a ping deploys nothing',
    event: { kind: 'ping' },
    expect: { kind: 'ignored', reason: /^ping:/ },
  },
  {
    name: 'a plain call redeploys with no tag',
    event: { kind: 'plain' },
    expect: ['web redeploy {}'],
  },
  {
    name: 'a payload tag is taken',
    event: { kind: 'push', tag: 'v2' },
    expect: ['web redeploy {"tag":"v2"}'],
  },
  {
    name: '?tag= wins over the payload tag',
    event: { kind: 'push', tag: 'v2' },
    query: { tag: 'v3' },
    expect: ['web redeploy {"tag":"v3"}'],
  },
  {
    name: '?tag= is not read when the trigger does not allow it',
    trigger: { allowTag: false },
    event: { kind: 'plain' },
    query: { tag: 'v3' },
    expect: ['web redeploy {}'],
  },
  {
    name: 'a tag the policy refuses is ignored with its reason',
    event: { kind: 'plain' },
    query: { tag: '2.0.0' },
    services: [service('web', { tagPolicy: 'semver-minor', tag: '1.4.0' })],
    expect: { kind: 'ignored', reason: /^web: / },
  },
  {
    name: '?tag= on a service whose driver cannot change tags is refused, naming the parameter',
    event: { kind: 'plain' },
    query: { tag: 'v3' },
    services: [service('web', { driver: 'process' })],
    expect: {
      kind: 'refused',
      reason: /^\?tag= cannot be applied: service web runs on the process/,
    },
  },
  {
    name: 'in a stack, ?tag= is ignored for services that cannot take it, and the answer says so',
    trigger: { service: null, stack: 'shop' },
    event: { kind: 'plain' },
    query: { tag: 'v3' },
    services: [service('web'), service('worker', { driver: 'process' })],
    expect: ['web redeploy {"tag":"v3"}', 'worker redeploy {}'],
    notes: [
      /^\?tag= ignored: service worker runs on the process driver, which cannot change image/,
    ],
  },
  {
    name: 'a scale trigger asks for its signed step',
    trigger: { action: 'scale-down', by: 2 },
    event: { kind: 'alert', alertStatus: 'firing', alerts: [] },
    expect: ['web scale {"by":-2}'],
  },
  {
    name: 'a scale trigger never takes a tag, so ?tag= on a process service is no refusal there',
    trigger: { action: 'scale-up' },
    event: { kind: 'plain' },
    query: { tag: 'v3' },
    services: [service('web', { driver: 'process' })],
    expect: ['web scale {"by":1}'],
  },
  {
    name: 'a resolved alert reverses the step when the trigger says so',
    trigger: { action: 'scale-up', by: 2, reverseOnResolve: true },
    event: { kind: 'alert', alertStatus: 'resolved', alerts: [] },
    expect: ['web scale {"by":-2}'],
  },
  {
    name: 'a resolved alert does nothing otherwise',
    trigger: { action: 'scale-up' },
    event: { kind: 'alert', alertStatus: 'resolved', alerts: [] },
    expect: { kind: 'ignored', reason: /does not reverse on resolve/ },
  },
  {
    name: 'a push to another repository is not for a git service',
    event: { kind: 'push', repository: 'acme/api', branch: 'main' },
    services: [service('web', { git: { repo: 'https://github.com/acme/web.git' } })],
    expect: { kind: 'ignored', reason: /push to acme\/api, service follows/ },
  },
  {
    name: 'a push of another image is not for the service',
    event: { kind: 'push', image: 'acme/api', tag: 'v2' },
    services: [service('web', { image: 'ghcr.io/acme/web' })],
    expect: {
      kind: 'ignored',
      reason: /image acme\/api was pushed, service runs ghcr\.io\/acme\/web/,
    },
  },
  {
    name: 'the image pushed matches with the registry host and library/ left out',
    event: { kind: 'push', image: 'nginx', tag: '1.27' },
    services: [service('web', { image: 'docker.io/library/nginx' })],
    expect: ['web redeploy {"tag":"1.27"}'],
  },
]

for (const c of cases) {
  test(`resolveCall: ${c.name}`, () => {
    const resolution: Resolution = resolveCall({
      trigger: trigger(c.trigger),
      event: c.event,
      query: c.query ?? {},
      services: c.services ?? [service('web')],
      body: Buffer.alloc(0),
      canChangeTag: (s) => !TAGLESS.includes(s.driver),
    })
    if (Array.isArray(c.expect)) {
      assert.equal(resolution.kind, 'intents', JSON.stringify(resolution))
      if (resolution.kind !== 'intents') {
        return
      }
      const intents = resolution.intents.map(
        (i) => `${i.service} ${i.action} ${JSON.stringify(i.params)}`,
      )
      assert.deepEqual(intents, c.expect)
      assert.equal(resolution.notes.length, c.notes?.length ?? 0)
      resolution.notes.forEach((note, i) => assert.match(note.reason, c.notes![i]!))
    } else {
      const { kind } = resolution
      assert.equal(kind, c.expect.kind, JSON.stringify(resolution))
      assert.match('reason' in resolution ? resolution.reason : '', c.expect.reason)
    }
  })
}
