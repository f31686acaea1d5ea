/** Runs the store contract on PostgreSQL, then what only a shared database has: many instances. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import pg from 'pg'

import {
  freshPostgresUrl,
  isRequired,
  postgresAvailable,
} from '../../../test/support/postgres-cluster.ts'
import { waitFor } from '../../../test/support/wait-for.ts'
import type { Deployment } from '../../model/index.ts'
import type { Store } from '../store.ts'
import { intent, runStoreContract, serviceInput } from '../store-contract.ts'
import { listPostgresMigrations } from './postgres-migrate.ts'
import { LOG_CHANNEL, PostgresStore } from './postgres-store.ts'

const available = await postgresAvailable()

if (!available.ok) {
  const reason = `PostgreSQL unavailable: ${available.reason}`
  if (isRequired('postgres')) {
    test('PostgreSQL is required by DECKHAND_TEST_REQUIRE and must start', () =>
      assert.fail(reason))
  } else {
    process.stderr.write(`\nWARNING: skipping the postgres store tests. ${reason}\n\n`)
    test('store contract: postgres', { skip: reason }, () => {})
  }
} else {
  if (process.env.DECKHAND_TEST_VERBOSE) {
    process.stderr.write(`cluster start + template migration: ${available.startMs} ms\n`)
  }

  runStoreContract('postgres', {
    open: async () => new PostgresStore(await freshPostgresUrl()),
  })

  describe('postgres: many instances on one database', () => {
    /** Opens `n` stores on one database, each with its own pool, as separate instances would. */
    async function instances(
      t: { after: (fn: () => Promise<void>) => void },
      n: number,
      url?: string,
    ): Promise<PostgresStore[]> {
      url ??= await freshPostgresUrl()
      const stores = Array.from({ length: n }, () => new PostgresStore(url, { poolSize: 8 }))
      t.after(async () => {
        await Promise.all(stores.map((store) => store.close()))
      })
      return stores
    }

    test('600 concurrent calls on three instances: every call recorded, one running per service', async (t) => {
      const stores = await instances(t, 3)
      const services = Array.from({ length: 20 }, (_, i) => `svc${i}`)
      for (const name of services) {
        await stores[0]!.createService(serviceInput(name))
      }
      // What the claimers hold, in this process: a claim for a service already held is a
      // second running deployment, whatever the rows say.
      const holding = new Map<string, string>()
      const violations: string[] = []
      const held: { store: Store; owner: string; deployment: Deployment }[] = []
      let bursting = true
      // Claimers that find nothing wait for the next change (a call accepted, a deployment
      // finished) instead of polling; the promise is taken before the claim, so no wake-up is lost.
      let change = Promise.withResolvers<void>()
      const changed = (): void => {
        change.resolve()
        change = Promise.withResolvers<void>()
      }
      const claimer = async (store: Store, owner: string, finishAtOnce: boolean): Promise<void> => {
        while (bursting || finishAtOnce) {
          const next = change.promise
          const deployment = await store.claimNext(owner, 30_000)
          if (!deployment) {
            // "Nothing can start" is momentary while another claimer holds the service: the
            // drain ends only when no queued deployment is left.
            const queued = await store.listDeployments({ state: 'queued' }, { limit: 1 })
            if (!bursting && queued.items.length === 0) {
              return
            }
            await next
            continue
          }
          if (holding.has(deployment.service)) {
            violations.push(
              `${deployment.service}: ${holding.get(deployment.service)} and ${deployment.id}`,
            )
          }
          holding.set(deployment.service, deployment.id)
          if (finishAtOnce) {
            // Released before the finish commits: a claim that lands after it is legitimate.
            holding.delete(deployment.service)
            assert.equal(
              await store.finishDeployment(deployment.id, owner, { state: 'succeeded' }),
              true,
            )
            changed()
          } else {
            held.push({ store, owner, deployment })
          }
        }
      }

      // Phase 1: the burst, while claimers on all three instances claim and hold what they get,
      // so each service can have at most one running and one queued deployment.
      const started = performance.now()
      const claimers = stores.flatMap((store, i) =>
        [0, 1].map((k) => claimer(store, `i${i}-w${k}`, false)),
      )
      const calls = Array.from({ length: 600 }, (_, n) => ({
        id: `call_${n}`,
        triggerId: 'trg_burst',
        sender: 'generic',
        deliveryId: null,
        remoteAddress: '127.0.0.1',
      }))
      const results = await Promise.all(
        calls.map((call, n) =>
          stores[n % 3]!.acceptCall(call, [
            intent(services[n % 20]!, { params: { tag: `v${n}` } }),
          ]).finally(changed),
        ),
      )
      bursting = false
      changed()
      await Promise.all(claimers)
      const burstMs = Math.round(performance.now() - started)
      t.diagnostic(`600 acceptCall on 3 instances with 6 claimers: ${burstMs} ms`)

      assert.deepEqual(
        results.filter((r) => r.results[0]?.kind === 'ignored'),
        [],
      )
      assert.equal(
        (await stores[1]!.listCalls({ trigger: 'trg_burst' }, { limit: 1000 })).items.length,
        600,
      )
      const all = (await stores[2]!.listDeployments({}, { limit: 1000 })).items
      const perService = Map.groupBy(all, (d) => d.service)
      for (const name of services) {
        const rows = perService.get(name) ?? []
        assert.ok(rows.length >= 1 && rows.length <= 2, `${name} has ${rows.length} deployments`)
        // Every call of the service is counted on exactly one of its deployments.
        assert.equal(
          rows.reduce((sum, d) => sum + d.calls, 0),
          30,
          name,
        )
        assert.ok(rows.filter((d) => d.state === 'running').length <= 1, name)
      }

      // Phase 2: release the held deployments, queue a redeploy and a scale for every service
      // (two candidates each), and let six claimers that finish at once drain the queue.
      for (const { store, owner, deployment } of held) {
        holding.delete(deployment.service)
        assert.equal(
          await store.finishDeployment(deployment.id, owner, { state: 'succeeded' }),
          true,
        )
      }
      await Promise.all(
        services.flatMap((name, n) => [
          stores[n % 3]!.acceptCall({ ...calls[0]!, id: `call_r${n}` }, [intent(name)]),
          stores[(n + 1) % 3]!.acceptCall({ ...calls[0]!, id: `call_s${n}` }, [
            intent(name, { action: 'scale', params: { by: 1 } }),
          ]),
        ]),
      )
      await Promise.all(
        stores.flatMap((store, i) => [0, 1].map((k) => claimer(store, `d${i}-w${k}`, true))),
      )
      assert.deepEqual(violations, [])

      const finished = (await stores[0]!.listDeployments({}, { limit: 1000 })).items
      assert.equal(finished.filter((d) => d.state !== 'succeeded').length, 0)
      // The rows agree: per service, each deployment started after the previous one finished.
      for (const [name, rows] of Map.groupBy(finished, (d) => d.service)) {
        const spans = rows
          .map((d) => [Date.parse(d.startedAt!), Date.parse(d.finishedAt!)] as const)
          .sort((a, b) => a[0] - b[0])
        for (let i = 1; i < spans.length; i++) {
          assert.ok(spans[i]![0] >= spans[i - 1]![1], `${name}: two deployments overlap`)
        }
      }
    })

    test('losing a race on a unique index retries: a claim takes the next service, a call joins', async (t) => {
      const url = await freshPostgresUrl()
      const [store] = await instances(t, 1, url)
      await store!.createService(serviceInput('a'))
      await store!.createService(serviceInput('b'))
      const none = { triggerId: null, sender: null, deliveryId: null, remoteAddress: null }
      await store!.acceptCall({ id: 'call_a', ...none }, [intent('a')])
      await store!.acceptCall({ id: 'call_b', ...none }, [intent('b')])
      // Another writer, mid-transaction, has made a deployment of `a` run and queued a scale of
      // `a`: neither is visible yet, so the store's reads cannot see the conflict coming.
      const other = await rawClient(url)
      t.after(() => other.end())
      await other.query('BEGIN')
      await other.query(
        `INSERT INTO deployments (id, service, action, state, params, input, calls, created_at, owner)
         VALUES ('dpl_other_run', 'a', 'rollback', 'running', '{}', '{}', 1, now(), 'other'),
                ('dpl_other_scale', 'a', 'scale', 'queued', '{"by":1}', '{}', 1, now(), NULL)`,
      )
      const claim = store!.claimNext('w1', 30_000)
      const join = store!.acceptCall({ id: 'call_scale', ...none }, [
        intent('a', { action: 'scale', params: { by: 1 } }),
      ])
      await waitFor(
        async () =>
          (
            await other.query(
              "SELECT 1 FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'",
            )
          ).rowCount === 2,
        { what: 'the claim and the call to wait on the other writer' },
      )
      await other.query('COMMIT')
      assert.equal((await claim)?.service, 'b')
      const joined = (await join).results[0]
      assert.equal(joined?.kind, 'coalesced')
      assert.equal(joined?.kind === 'coalesced' && joined.deployment.id, 'dpl_other_scale')
    })

    test("one trigger's scale calls on three instances at once step once within its cooldown", async (t) => {
      const stores = await instances(t, 3)
      await stores[0]!.createService(serviceInput('web', { scale: { min: 1, max: 50 } }))
      const step = intent('web', { action: 'scale', params: { by: 1 } })
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, n) =>
          stores[n % 3]!.acceptCall(
            {
              id: `call_cool_${n}`,
              triggerId: 'trg_alerts',
              sender: 'alertmanager',
              deliveryId: null,
              remoteAddress: null,
            },
            [step],
            { cooldownMs: 60_000 },
          ),
        ),
      )
      assert.equal(results.filter((r) => r.call.outcome === 'queued').length, 1)
      assert.equal(results.filter((r) => r.call.outcome === 'ignored').length, 29)
      const queued = await stores[1]!.listDeployments({ state: 'queued' }, { limit: 10 })
      assert.deepEqual(
        queued.items.map((d) => [d.params.by, d.calls]),
        [[1, 1]],
      )
    })

    test('one delivery sent to three instances at once is accepted once; the rest are its duplicates', async (t) => {
      const stores = await instances(t, 3)
      await stores[0]!.createService(serviceInput('web'))
      const since = new Date(Date.now() - 60_000).toISOString()
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, n) =>
          stores[n % 3]!.acceptCall(
            {
              id: `call_dup_${n}`,
              triggerId: 'trg_hub',
              sender: 'github',
              deliveryId: 'delivery-1',
              remoteAddress: null,
            },
            [intent('web')],
            { deliverySince: since },
          ),
        ),
      )
      assert.equal(results.filter((r) => r.call.outcome === 'queued').length, 1)
      assert.equal(results.filter((r) => r.call.outcome === 'duplicate').length, 29)
      const [deployment] = (await stores[2]!.listDeployments({ service: 'web' }, { limit: 10 }))
        .items
      assert.equal(deployment?.calls, 1)
    })

    test('a deployment whose lease lapsed is failed by another instance', async (t) => {
      const [lost, survivor] = await instances(t, 2)
      await lost!.createService(serviceInput('web'))
      await lost!.acceptCall(
        { id: 'call_lease', triggerId: null, sender: null, deliveryId: null, remoteAddress: null },
        [intent('web')],
      )
      const claimed = await lost!.claimNext('instance-lost', 200)
      assert.ok(claimed)
      assert.deepEqual(await survivor!.failAbandoned('lease expired', 'expired'), [])
      // The lost instance never renews; the survivor reaps once the database clock passes
      // the lease.
      const failed = await waitFor(
        async () => {
          const reaped = await survivor!.failAbandoned('lease expired', 'expired')
          return reaped.length ? reaped : undefined
        },
        { timeoutMs: 5_000, what: 'the expired lease to be reaped' },
      )
      assert.deepEqual(
        failed.map((d) => [d.id, d.state, d.error]),
        [[claimed.id, 'failed', 'lease expired']],
      )
      assert.deepEqual(await lost!.renewLease(claimed.id, 'instance-lost', 30_000), {
        held: false,
        cancelRequested: false,
      })
      assert.equal(
        await lost!.finishDeployment(claimed.id, 'instance-lost', { state: 'succeeded' }),
        false,
      )
      assert.deepEqual(await survivor!.failAbandoned('lease expired', 'expired'), [])
    })

    test('migrations started by three instances at once apply once', async (t) => {
      const url = await freshPostgresUrl({ migrated: false })
      const stores = Array.from({ length: 3 }, () => new PostgresStore(url, { poolSize: 2 }))
      t.after(async () => {
        await Promise.all(stores.map((store) => store.close()))
      })
      await Promise.all(stores.map((store) => store.migrate()))
      const probe = new PostgresStore(url, { poolSize: 1 })
      t.after(() => probe.close())
      await probe.migrate()
      const versions = listPostgresMigrations().map((m) => m.version)
      const rows = await rowsOf(url, 'SELECT version FROM schema_migrations ORDER BY version')
      assert.deepEqual(
        rows.map((row) => Number(row.version)),
        versions,
      )
      await stores[1]!.createService(serviceInput('after-migrate'))
    })

    test('concurrent appends keep each log gapless and NOTIFY its deployment id', async (t) => {
      const [a, b] = await instances(t, 2)
      const woken: string[] = []
      const stop = await b!.subscribe(LOG_CHANNEL, (payload) => woken.push(payload))
      t.after(stop)
      const at = new Date().toISOString()
      await Promise.all(
        Array.from({ length: 40 }, (_, n) =>
          (n % 2 ? a! : b!).appendLog('dpl_race', [
            { at, stream: 'stdout', line: `${n}.1` },
            { at, stream: 'stdout', line: `${n}.2` },
          ]),
        ),
      )
      const lines = await a!.readLog('dpl_race', 0, 1000)
      assert.deepEqual(
        lines.map((l) => l.seq),
        Array.from({ length: 80 }, (_, i) => i + 1),
      )
      // Each append's two lines are adjacent: no other append slipped between them.
      for (let i = 0; i < 80; i += 2) {
        assert.equal(lines[i]!.line.split('.')[0], lines[i + 1]!.line.split('.')[0])
      }
      await waitFor(() => woken.length === 40, { what: 'one notification per append' })
      assert.deepEqual(new Set(woken), new Set(['dpl_race']))
    })

    test('an unreachable database answers the 503 store error', async () => {
      const url = await freshPostgresUrl()
      const parsed = new URL(url)
      parsed.port = '1'
      const store = new PostgresStore(parsed.toString())
      try {
        await assert.rejects(store.ping(), { code: 'DH_ERR_STORE_UNAVAILABLE', status: 503 })
        await assert.rejects(
          store.acceptCall(
            { id: 'call_x', triggerId: null, sender: null, deliveryId: null, remoteAddress: null },
            [intent('web')],
          ),
          { code: 'DH_ERR_STORE_UNAVAILABLE' },
        )
      } finally {
        await store.close()
      }
    })
  })
}

async function rawClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  return client
}

async function rowsOf(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = await rawClient(url)
  try {
    return (await client.query(sql)).rows
  } finally {
    await client.end()
  }
}
