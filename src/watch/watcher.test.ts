// The watcher's schedule on a clock the test moves: jitter, one check per repository shared by
// its services, back-off with Retry-After, the lease, and the call a change becomes.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'

import { HUB_REGISTRY, startDockerHubStandIn } from '../../test/support/docker-hub-stand-in.ts'
import { EventBus } from '../events.ts'
import { RegistryClient, RegistryError } from '../registry/registry-client.ts'
import { parseServiceSpec } from '../specs/service-spec.ts'
import { SqliteStore } from '../store/sqlite/sqlite-store.ts'
import type { Store } from '../store/store.ts'
import type { WatchRegistry } from './watch-check.ts'
import type { WatchClock } from './watch-clock.ts'
import { Watcher, type WatcherOptions } from './watcher.ts'

const HOST = '127.0.0.1:5000'
const START = Date.parse('2026-01-01T00:00:00Z')

class TestClock implements WatchClock {
  at = START
  readonly #timers = new Map<number, { due: number; fire: () => void }>()
  #next = 0

  now(): number {
    return this.at
  }

  setTimeout(fire: () => void, ms: number): unknown {
    const id = ++this.#next
    this.#timers.set(id, { due: this.at + ms, fire })
    return id
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number)
  }

  /** Moves time to `ms` later and fires the timers due, without waiting for what they start. */
  async jump(ms: number): Promise<void> {
    this.at += ms
    for (const [id, timer] of [...this.#timers]) {
      if (timer.due <= this.at) {
        this.#timers.delete(id)
        timer.fire()
      }
    }
    await new Promise((resolve) => setImmediate(resolve))
  }

  /** Moves time to `ms` later, firing each timer due on the way and letting the watchers settle. */
  async advance(ms: number, watchers: Watcher[]): Promise<void> {
    const end = this.at + ms
    for (;;) {
      await Promise.all(watchers.map((w) => w.settled()))
      const [id, timer] = [...this.#timers].sort((a, b) => a[1].due - b[1].due)[0] ?? []
      if (id === undefined || timer!.due > end) {
        break
      }
      this.#timers.delete(id)
      this.at = Math.max(this.at, timer!.due)
      timer!.fire()
    }
    this.at = end
  }
}

type Answer = () => Promise<unknown>

/** A registry whose answers the test writes, recording when each question came. */
class TestRegistry implements WatchRegistry {
  readonly asked: { what: string; at: number; etag: string | null }[] = []
  tags: Answer = async () => ({ notModified: false, etag: null, tags: [] })
  manifest: Answer = async () => ({ notModified: false, etag: null, digest: 'sha256:x' })
  readonly #clock: TestClock

  constructor(clock: TestClock) {
    this.#clock = clock
  }

  tagsIfChanged: WatchRegistry['tagsIfChanged'] = async (host, repository, options) => {
    this.asked.push({ what: `tags ${repository}`, at: this.#clock.at, etag: options?.etag ?? null })
    return (await this.tags()) as never
  }

  manifestIfChanged: WatchRegistry['manifestIfChanged'] = async (
    host,
    repository,
    tag,
    options,
  ) => {
    this.asked.push({
      what: `manifest ${repository}:${tag}`,
      at: this.#clock.at,
      etag: options?.etag ?? null,
    })
    return (await this.manifest()) as never
  }
}

async function storeFor(t: TestContext): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'deckhand-watch-'))
  const store = new SqliteStore(join(dir, 'deckhand.db'))
  await store.migrate()
  t.after(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return store
}

async function addService(
  store: Store,
  name: string,
  repository: string,
  watch: Record<string, unknown>,
  tag = '1.0.0',
): Promise<void> {
  const parsed = parseServiceSpec(
    {
      name,
      driver: 'docker',
      target: { container: name },
      image: `${HOST}/${repository}`,
      tag,
      watch,
    },
    () => [],
  )
  assert.ok(parsed.ok, JSON.stringify(parsed))
  await store.createService(parsed.value)
}

function watcher(
  store: Store,
  clock: TestClock,
  registry: WatchRegistry,
  extra: Partial<WatcherOptions> = {},
): Watcher {
  const w = new Watcher({
    store,
    events: new EventBus(() => undefined),
    registry,
    logger: { warn: () => undefined, error: () => undefined } as never,
    owner: 'test',
    useLease: false,
    clock,
    random: () => 0.5,
    refreshMs: 60_000,
    ...extra,
  })
  w.start()
  return w
}

test('checks come at the interval give or take a tenth, spread by the jitter', async (t) => {
  const store = await storeFor(t)
  const clock = new TestClock()
  await addService(store, 'web', 'acme/web', { interval: '100s', tags: 'same' })
  const registry = new TestRegistry(clock)
  const draws = [0, 0, 0.999, 0.5]
  const w = watcher(store, clock, registry, { random: () => draws.shift() ?? 0.5 })
  t.after(() => w.stop())

  await clock.advance(400_000, [w])

  const times = registry.asked.map((a) => (a.at - START) / 1000)
  // First check at once (draw 0), then 90 s (draw 0: a tenth early), 109.98 s (late), 100 s.
  assert.deepEqual(times.slice(0, 4), [0, 90, 199.98, 299.98])
  const check = await store.getWatchCheck('web')
  assert.equal(check?.outcome, 'unchanged')
  assert.equal(Date.parse(check!.nextAt!) - Date.parse(check!.checkedAt), 100_000)
})

test('services on one repository share one check, and only one is in flight at a time', async (t) => {
  const store = await storeFor(t)
  const clock = new TestClock()
  await addService(store, 'web', 'acme/web', { interval: '30s', tags: 'semver-minor' })
  await addService(store, 'worker', 'acme/web', { interval: '30s', tags: 'semver-patch' })
  await addService(store, 'api', 'acme/api', { interval: '30s', tags: 'semver-minor' })
  const registry = new TestRegistry(clock)
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  registry.tags = async () => {
    await held
    return { notModified: false, etag: null, tags: ['1.0.0'] }
  }
  const w = watcher(store, clock, registry, { random: () => 0 })
  t.after(() => w.stop())

  // settled() would wait for the held answers, so the clock jumps ahead without it meanwhile:
  // both services of acme/web are due again twice over while their check is in flight.
  for (let i = 0; i < 4; i++) {
    await clock.jump(20_000)
  }
  assert.deepEqual(registry.asked.map((a) => a.what).sort(), ['tags acme/api', 'tags acme/web'])
  release()
  await clock.advance(0, [w])
  assert.equal(registry.asked.length, 2)
  // The next checks count from the end of these, once for both services of acme/web.
  await clock.advance(30_000, [w])
  assert.deepEqual(registry.asked.map((a) => a.what).sort(), [
    'tags acme/api',
    'tags acme/api',
    'tags acme/web',
    'tags acme/web',
  ])
  const [web, worker] = [await store.getWatchCheck('web'), await store.getWatchCheck('worker')]
  assert.equal(web?.checkedAt, worker?.checkedAt)
  assert.match(web!.answer, /no tag newer than 1\.0\.0 that semver-minor allows among 1 tags/)
  assert.match(worker!.answer, /semver-patch/)
})

test('429 and 5xx back off, never before Retry-After, and a success ends the back-off', async (t) => {
  const store = await storeFor(t)
  const clock = new TestClock()
  await addService(store, 'web', 'acme/web', { interval: '10s', tags: 'same' })
  const registry = new TestRegistry(clock)
  const answers: Answer[] = [
    async () => {
      throw new RegistryError('busy', 503, { retryAfterMs: 120_000 })
    },
    async () => {
      throw new RegistryError('slow down', 429)
    },
    async () => ({ notModified: false, etag: null, digest: 'sha256:a' }),
    async () => ({ notModified: false, etag: null, digest: 'sha256:a' }),
  ]
  registry.manifest = () => answers.shift()!()
  const w = watcher(store, clock, registry, { random: () => 0.5 })
  t.after(() => w.stop())

  await clock.advance(300_000, [w])

  const times = registry.asked.map((a) => (a.at - START) / 1000)
  // 5: 503 asking 120 s; 125: 429, the second failure: 10 s × 2² = 40 s; 165: ok; 175: ok.
  assert.deepEqual(times.slice(0, 4), [5, 125, 165, 175])
})

test('with the lease, one of two watchers checks; the other takes over once it stops', async (t) => {
  const store = await storeFor(t)
  const clock = new TestClock()
  await addService(store, 'web', 'acme/web', { interval: '10s', tags: 'same' })
  const [one, two] = [new TestRegistry(clock), new TestRegistry(clock)]
  const a = watcher(store, clock, one, { useLease: true, owner: 'a', leaseMs: 30_000 })
  const b = watcher(store, clock, two, { useLease: true, owner: 'b', leaseMs: 30_000 })
  t.after(() => Promise.all([a.stop(), b.stop()]))

  await clock.advance(60_000, [a, b])
  assert.ok(one.asked.length >= 6, `a checked ${one.asked.length} times`)
  assert.equal(two.asked.length, 0)
  assert.equal(a.holdsLease, true)
  assert.equal(b.holdsLease, false)

  await a.stop()
  const stoppedAt = clock.at
  await clock.advance(30_000, [b])
  assert.equal(b.holdsLease, true)
  // b asks for the lease every 10 s (a third of it), so it checks within 10 s of a's stop.
  assert.ok(
    two.asked[0]!.at - stoppedAt <= 10_000,
    `b took over after ${two.asked[0]!.at - stoppedAt} ms`,
  )
})

test('a newer allowed tag becomes one call with sender watch and one deployment', async (t) => {
  const store = await storeFor(t)
  const clock = new TestClock()
  await addService(store, 'web', 'acme/web', { interval: '10s', tags: 'semver-minor' })
  const registry = new TestRegistry(clock)
  registry.tags = async () => ({
    notModified: false,
    etag: null,
    tags: ['1.0.0', '1.2.0', '1.10.0', '2.0.0', 'latest'],
  })
  const w = watcher(store, clock, registry)
  t.after(() => w.stop())

  await clock.advance(60_000, [w])

  const deployments = (await store.listDeployments({ service: 'web' }, { limit: 10 })).items
  assert.equal(deployments.length, 1)
  assert.deepEqual(deployments[0]!.params, { tag: '1.10.0' })
  const calls = (await store.listCalls({}, { limit: 10 })).items
  assert.equal(calls.length, 1)
  assert.equal(calls[0]!.sender, 'watch')
  assert.match(calls[0]!.reason ?? '', /acme\/web has tag 1\.10\.0 \(was 1\.0\.0\)/)
  const check = await store.getWatchCheck('web')
  assert.equal(check?.outcome, 'unchanged')
  assert.match(check!.answer, /1\.10\.0 is the newest tag semver-minor allows; already asked for/)
})

test('same: the ETag goes back as If-None-Match, and a new digest redeploys the tag once', async (t) => {
  const store = await storeFor(t)
  const clock = new TestClock()
  await addService(store, 'web', 'acme/web', { interval: '10s', tags: 'same' }, 'latest')
  const registry = new TestRegistry(clock)
  let digest = 'sha256:a'
  registry.manifest = async () =>
    registry.asked.at(-1)!.etag === `"${digest}"`
      ? { notModified: true }
      : { notModified: false, etag: `"${digest}"`, digest }
  const w = watcher(store, clock, registry, { random: () => 0 })
  t.after(() => w.stop())

  await clock.advance(20_000, [w])
  assert.deepEqual(
    registry.asked.map((a) => a.etag),
    [null, '"sha256:a"', '"sha256:a"'],
  )
  assert.match((await store.getWatchCheck('web'))!.answer, /sha256:a \(not modified\)/)
  assert.equal((await store.listDeployments({ service: 'web' }, { limit: 10 })).items.length, 0)

  digest = 'sha256:b'
  await clock.advance(30_000, [w])

  const deployments = (await store.listDeployments({ service: 'web' }, { limit: 10 })).items
  assert.equal(deployments.length, 1)
  assert.deepEqual(deployments[0]!.params, { tag: 'latest' })
  const calls = (await store.listCalls({}, { limit: 10 })).items
  assert.equal(calls.length, 1)
  assert.match(calls[0]!.reason ?? '', /acme\/web:latest moved from sha256:a to sha256:b/)
})

test('a change the service tag policy refuses is recorded as an ignored call, not deployed', async (t) => {
  const store = await storeFor(t)
  const clock = new TestClock()
  const parsed = parseServiceSpec(
    {
      name: 'web',
      driver: 'docker',
      target: { container: 'web' },
      image: `${HOST}/acme/web`,
      tag: '1.0.0',
      tagPolicy: 'semver-patch',
      watch: { interval: '10s', tags: 'semver-minor' },
    },
    () => [],
  )
  assert.ok(parsed.ok)
  await store.createService(parsed.value)
  const registry = new TestRegistry(clock)
  registry.tags = async () => ({ notModified: false, etag: null, tags: ['1.1.0'] })
  const w = watcher(store, clock, registry)
  t.after(() => w.stop())

  await clock.advance(30_000, [w])

  assert.equal((await store.listDeployments({ service: 'web' }, { limit: 10 })).items.length, 0)
  const calls = (await store.listCalls({}, { limit: 10 })).items
  assert.equal(calls.length, 1)
  assert.equal(calls[0]!.outcome, 'ignored')
  assert.equal(calls[0]!.sender, 'watch')
  assert.equal((await store.getWatchCheck('web'))?.tag, '1.1.0')
})

test('Docker Hub images are watched at registry-1.docker.io, official ones as library/<name>', async (t) => {
  const hub = await startDockerHubStandIn(t)
  const digest = (n: number) => `sha256:${String(n).repeat(64)}`
  hub.repositories.set('library/nginx', { tags: { '1.27': digest(1) } })
  hub.repositories.set('acme/web', { tags: { '1.0.0': digest(2), '1.1.0': digest(3) } })
  const store = await storeFor(t)
  for (const [name, image, tag, tags] of [
    ['proxy', 'nginx', '1.27', 'same'],
    ['web', 'docker.io/acme/web', '1.0.0', 'semver-minor'],
  ] as const) {
    const parsed = parseServiceSpec(
      { name, driver: 'docker', target: { container: name }, image, tag, watch: { tags } },
      () => [],
    )
    assert.ok(parsed.ok, JSON.stringify(parsed))
    await store.createService(parsed.value)
  }
  const clock = new TestClock()
  const registry = new RegistryClient({ ca: [hub.ca], connectTo: hub.connectTo })
  const w = watcher(store, clock, registry)
  t.after(() => w.stop())

  await clock.advance(15_000, [w])

  const asked = hub.requests.filter((r) => r.host === HUB_REGISTRY && r.authorization)
  assert.deepEqual(asked.map((r) => `${r.method} ${r.path}`).sort(), [
    'GET /v2/acme/web/tags/list?n=100',
    'HEAD /v2/library/nginx/manifests/1.27',
  ])
  const proxy = await store.getWatchCheck('proxy')
  assert.equal(proxy?.outcome, 'unchanged', proxy?.answer)
  assert.equal(proxy?.digest, digest(1))
  assert.match(proxy!.answer, /^docker\.io\/library\/nginx:1\.27 is sha256:1111/)
  const calls = (await store.listCalls({}, { limit: 10 })).items
  assert.equal(calls.length, 1)
  assert.match(calls[0]!.reason ?? '', /docker\.io\/acme\/web has tag 1\.1\.0 \(was 1\.0\.0\)/)
})
