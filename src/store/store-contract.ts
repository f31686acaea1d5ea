/**
 * The behavioural suite every store backend must pass. A backend's test file calls
 * `runStoreContract` with a factory that opens a fresh, migrated, empty store.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import type { DeploymentIntent } from '../model/call-accept.ts'
import type { ServiceInput, Store } from './store.ts'
import { runApprovalsContract } from './store-approvals-contract.ts'
import { runPruneContract } from './store-prune-contract.ts'
import { runWatchContract } from './store-watch-contract.ts'

export interface StoreContractOptions {
  /** Opens a fresh, migrated store on an empty database; closed by the suite. */
  open: () => Promise<Store>
}

export function serviceInput(name: string, overrides: Partial<ServiceInput> = {}): ServiceInput {
  return {
    name,
    driver: 'command',
    target: { redeploy: 'true', scale: 'true' },
    image: null,
    git: null,
    scale: { min: 1, max: 3 },
    tagPolicy: 'all',
    deploy: { order: 'start-first', healthTimeoutMs: 60_000, pull: 'missing', rollback: true },
    replicas: 1,
    ...overrides,
  }
}

export function intent(
  service: string,
  overrides: Partial<DeploymentIntent> = {},
): DeploymentIntent {
  return {
    service,
    action: 'redeploy',
    params: {},
    input: {
      triggerName: 't',
      env: {},
      body: null,
      bodyTooLarge: false,
      gitCommit: null,
      gitBranch: null,
    },
    triggerId: null,
    ...overrides,
  }
}

let callNumber = 0
const call = () => ({
  id: `call_test${++callNumber}`,
  triggerId: 'trg_1',
  sender: 'generic',
  deliveryId: null,
  remoteAddress: '127.0.0.1',
})

export function runStoreContract(name: string, options: StoreContractOptions): void {
  const withStore = (title: string, body: (store: Store) => Promise<void>) =>
    test(title, async (t) => {
      const store = await options.open()
      t.after(() => store.close())
      await body(store)
    })

  describe(`store contract: ${name}`, () => {
    withStore(
      'services are created, read, replaced, listed newest first and deleted',
      async (store) => {
        await store.createService(serviceInput('a'))
        await store.createService(serviceInput('b'))
        await assert.rejects(store.createService(serviceInput('a')), /already exists/)
        const replaced = await store.replaceService(
          serviceInput('a', { scale: { min: 0, max: 9 } }),
        )
        assert.equal(replaced?.scale.max, 9)
        assert.equal(replaced?.replicas, 1)
        const first = await store.listServices({ limit: 1 })
        assert.deepEqual(
          first.items.map((s) => s.name),
          ['b'],
        )
        const second = await store.listServices({ limit: 1, cursor: first.next! })
        assert.deepEqual(
          second.items.map((s) => s.name),
          ['a'],
        )
        assert.equal(second.next, null)
        assert.equal(await store.deleteService('a'), true)
        assert.equal(await store.getService('a'), undefined)
        assert.equal(await store.deleteService('a'), false)
      },
    )

    withStore('a revoked or rotated token is never found again', async (store) => {
      await store.createService(serviceInput('web'))
      const options = {
        name: 'hub',
        action: 'redeploy' as const,
        by: 1,
        sender: 'auto' as const,
        secret: null,
        allowIps: [],
        passBody: true,
        envFromQuery: [],
        secretEnvFromQuery: [],
        allowTag: true,
        reverseOnResolve: false,
        cooldownMs: 60_000,
        rateLimit: { count: 600, perMs: 60_000 },
      }
      await store.createTrigger({
        ...options,
        id: 'trg_a',
        service: 'web',
        stack: null,
        tokenHash: 'h1',
      })
      assert.equal((await store.findTriggerByTokenHash('h1'))?.id, 'trg_a')
      await store.rotateTrigger('trg_a', 'h2')
      assert.equal(await store.findTriggerByTokenHash('h1'), undefined)
      assert.equal((await store.findTriggerByTokenHash('h2'))?.id, 'trg_a')
      assert.equal(await store.revokeTrigger('trg_a'), true)
      assert.equal(await store.findTriggerByTokenHash('h2'), undefined)
      assert.equal(await store.revokeTrigger('trg_a'), false)
      assert.equal((await store.listTriggers({ service: 'web' }, { limit: 10 })).items.length, 0)
      assert.ok((await store.getTrigger('trg_a'))?.revokedAt)
    })

    withStore(
      'a listing with includeRevoked shows revoked triggers beside live ones, newest first',
      async (store) => {
        await store.createService(serviceInput('web'))
        const options = {
          name: 'hub',
          action: 'redeploy' as const,
          by: 1,
          sender: 'auto' as const,
          secret: null,
          allowIps: [],
          passBody: true,
          envFromQuery: [],
          secretEnvFromQuery: [],
          allowTag: true,
          reverseOnResolve: false,
          cooldownMs: 60_000,
          rateLimit: { count: 600, perMs: 60_000 },
        }
        await store.createTrigger({
          ...options,
          id: 'trg_old',
          service: 'web',
          stack: null,
          tokenHash: 'h1',
        })
        await store.createTrigger({
          ...options,
          name: 'hub-2',
          id: 'trg_new',
          service: 'web',
          stack: null,
          tokenHash: 'h2',
        })
        await store.revokeTrigger('trg_old')
        assert.deepEqual(
          (await store.listTriggers({ service: 'web' }, { limit: 10 })).items.map((t) => t.id),
          ['trg_new'],
        )
        const all = await store.listTriggers(
          { service: 'web' },
          { limit: 1 },
          { includeRevoked: true },
        )
        assert.deepEqual(
          all.items.map((t) => [t.id, t.revokedAt === null]),
          [['trg_new', true]],
        )
        const rest = await store.listTriggers(
          { service: 'web' },
          { limit: 1, cursor: all.next! },
          { includeRevoked: true },
        )
        assert.deepEqual(
          rest.items.map((t) => [t.id, t.revokedAt === null]),
          [['trg_old', false]],
        )
      },
    )

    withStore(
      'a burst of calls joins the queued deployment, counts every call and keeps the newest input',
      async (store) => {
        await store.createService(serviceInput('web'))
        const burst = (from: number, count: number) =>
          Promise.all(
            Array.from({ length: count }, (_, k) => {
              const i = from + k
              const { input } = intent('web')
              return store.acceptCall(call(), [
                intent('web', { params: { tag: `v${i}` }, input: { ...input, body: `b${i}` } }),
              ])
            }),
          )
        const results = [...(await burst(0, 50)), ...(await burst(50, 10))]
        const ids = new Set(
          results.map((r) => (r.results[0]?.kind === 'ignored' ? '' : r.results[0]!.deployment.id)),
        )
        assert.equal(ids.size, 1)
        const [id] = ids
        const deployment = await store.getDeployment(id!)
        assert.equal(deployment?.calls, 60)
        assert.equal(deployment?.params.tag, 'v59')
        assert.equal(
          deployment?.input.body,
          'b59',
          'the deployment runs with the newest call input',
        )
        const last = results.at(-1)!.results[0]!
        assert.ok(last.kind === 'coalesced')
        assert.equal(last.deployment.calls, 60)
        assert.equal(last.deployment.input.body, 'b59')
        assert.equal(results.filter((r) => r.call.outcome === 'queued').length, 1)
        assert.equal(results.filter((r) => r.call.outcome === 'coalesced').length, 59)
        assert.equal((await store.listCalls({}, { limit: 1000 })).items.length, 60)
      },
    )

    withStore(
      "a scale trigger's cooldown is checked inside the commit: of calls sent together, one steps",
      async (store) => {
        await store.createService(serviceInput('web', { scale: { min: 1, max: 10 } }))
        const step = intent('web', { action: 'scale', params: { by: 1 } })
        const scaleCall = () => ({ ...call(), triggerId: 'trg_scale' })
        const together = await Promise.all(
          Array.from({ length: 5 }, () =>
            store.acceptCall(scaleCall(), [step], { cooldownMs: 60_000 }),
          ),
        )
        assert.deepEqual(
          together.map((r) => r.call.outcome),
          ['queued', 'ignored', 'ignored', 'ignored', 'ignored'],
        )
        const ignored = together[1]!
        assert.equal(ignored.call.status, 200)
        assert.equal(ignored.call.reason, 'cooldown: the last scale step was less than 60s ago')
        assert.deepEqual(ignored.results, [])
        const later = await store.acceptCall(scaleCall(), [step], { cooldownMs: 60_000 })
        assert.equal(
          later.call.outcome,
          'ignored',
          'a call after the group commits is still within the cooldown',
        )
        const queued = await store.listDeployments({ state: 'queued' }, { limit: 10 })
        assert.deepEqual(
          queued.items.map((d) => [d.action, d.params.by, d.calls]),
          [['scale', 1, 1]],
        )
        const otherTrigger = await store.acceptCall({ ...call(), triggerId: 'trg_other' }, [step], {
          cooldownMs: 60_000,
        })
        assert.equal(otherTrigger.call.outcome, 'coalesced', 'the cooldown is per trigger')
        const noCooldown = await store.acceptCall(scaleCall(), [step], { cooldownMs: 0 })
        assert.equal(noCooldown.call.outcome, 'coalesced')
      },
    )

    withStore(
      'calls of one delivery sent together: the first is accepted, the others are its duplicates',
      async (store) => {
        await store.createService(serviceInput('web'))
        const since = new Date(Date.now() - 60_000).toISOString()
        const delivered = () => ({ ...call(), deliveryId: 'delivery-1' })
        const [first, ...rest] = await Promise.all(
          Array.from({ length: 3 }, () =>
            store.acceptCall(delivered(), [intent('web')], { deliverySince: since }),
          ),
        )
        assert.equal(first!.call.outcome, 'queued')
        assert.equal(first!.duplicateOf, undefined)
        for (const duplicate of rest) {
          assert.equal(duplicate.call.outcome, 'duplicate')
          assert.equal(duplicate.call.reason, `redelivery of call ${first!.call.id}`)
          assert.deepEqual(duplicate.call.deploymentIds, first!.call.deploymentIds)
          assert.equal(duplicate.duplicateOf?.id, first!.call.id)
          assert.deepEqual(duplicate.results, [])
        }
        const deployment = await store.getDeployment(first!.call.deploymentIds[0]!)
        assert.equal(deployment?.calls, 1)
        const later = await store.acceptCall(
          { ...call(), deliveryId: 'delivery-1' },
          [intent('web')],
          { deliverySince: new Date(Date.now() + 60_000).toISOString() },
        )
        assert.equal(
          later.call.outcome,
          'coalesced',
          'a delivery older than the window is a new call',
        )
      },
    )

    withStore(
      'a call that fails inside a group fails alone; the others are recorded and counted',
      async (store) => {
        await store.createService(serviceInput('web'))
        const first = call()
        // The second call reuses the first's id, so its row cannot be written: only it may fail,
        // and the deployment it had joined in memory must not count it.
        const results = await Promise.allSettled([
          store.acceptCall(first, [intent('web')]),
          store.acceptCall({ ...call(), id: first.id }, [
            intent('web', { params: { tag: 'lost' } }),
          ]),
          store.acceptCall(call(), [intent('web', { params: { tag: 'kept' } })]),
        ])
        assert.deepEqual(
          results.map((r) => r.status),
          ['fulfilled', 'rejected', 'fulfilled'],
        )
        const last = results[2]
        assert.ok(last.status === 'fulfilled' && last.value.results[0]?.kind === 'coalesced')
        const deployment = await store.getDeployment(last.value.results[0].deployment.id)
        assert.equal(deployment?.calls, 2)
        assert.equal(deployment?.params.tag, 'kept')
        assert.equal((await store.listCalls({}, { limit: 10 })).items.length, 2)
      },
    )

    withStore('scale steps add up, clamp, and a call at the bound is ignored', async (store) => {
      await store.createService(serviceInput('web', { replicas: 2 }))
      const up = { action: 'scale' as const, params: { by: 1 } }
      const first = await store.acceptCall(call(), [intent('web', up)])
      assert.equal(first.results[0]?.kind, 'queued')
      const second = await store.acceptCall(call(), [intent('web', up)])
      assert.equal(second.results[0]?.kind, 'ignored')
      assert.match(second.call.reason ?? '', /scale\.max \(3\)/)
      assert.equal(second.call.status, 200)
      const down = await store.acceptCall(call(), [
        intent('web', { action: 'scale', params: { by: -1 } }),
      ])
      const joined = down.results[0]
      assert.equal(joined?.kind, 'coalesced')
      assert.equal(joined.kind === 'coalesced' ? joined.deployment.params.by : undefined, 0)
    })

    withStore(
      'a held or awaiting deployment is not claimed, is joined by calls, moves only from its state',
      async (store) => {
        await store.createService(serviceInput('web'))
        const first = await store.acceptCall(call(), [intent('web')])
        const id = first.results[0]?.kind === 'queued' ? first.results[0].deployment.id : ''
        const held = await store.moveDeployment(id, ['queued'], 'held')
        assert.equal(held?.state, 'held')
        assert.equal(await store.moveDeployment(id, ['queued'], 'awaiting-approval'), undefined)
        assert.equal(await store.claimNext('w1', 30_000), undefined)
        const joined = await store.acceptCall(call(), [intent('web')])
        assert.equal(joined.results[0]?.kind, 'coalesced')
        assert.equal(joined.results[0].kind === 'coalesced' && joined.results[0].deployment.id, id)
        assert.equal((await store.getDeployment(id))?.state, 'held')
        assert.equal((await store.getDeployment(id))?.calls, 2)
        const awaiting = await store.moveDeployment(id, ['held'], 'awaiting-approval')
        assert.equal(awaiting?.state, 'awaiting-approval')
        const rejected = await store.moveDeployment(id, ['awaiting-approval'], 'canceled', 'no')
        assert.equal(rejected?.state, 'canceled')
        assert.equal(rejected.error, 'no')
        assert.ok(rejected.finishedAt)
        const next = await store.acceptCall(call(), [intent('web')])
        assert.equal(next.results[0]?.kind, 'queued')
        const nextId = next.results[0].kind === 'queued' ? next.results[0].deployment.id : ''
        await store.moveDeployment(nextId, ['queued'], 'held')
        const released = await store.moveDeployment(nextId, ['held'], 'queued')
        assert.equal(released?.state, 'queued')
        assert.equal(released.finishedAt, null)
        assert.equal((await store.claimNext('w1', 30_000))?.id, nextId)
      },
    )

    withStore(
      'a frozen service holds its new deployments with the reason; a freeze survives a replace',
      async (store) => {
        await store.createService(serviceInput('web'))
        const freeze = {
          until: null,
          message: 'incident 7',
          by: 'ops',
          at: new Date().toISOString(),
        }
        assert.deepEqual((await store.setFreeze('web', freeze))?.freeze, freeze)
        assert.equal(await store.setFreeze('nope', freeze), undefined)
        await store.replaceService(serviceInput('web', { tagPolicy: 'semver' }))
        assert.deepEqual((await store.getService('web'))?.freeze, freeze)
        const accepted = await store.acceptCall(call(), [intent('web')])
        const held = accepted.results[0]?.kind === 'queued' ? accepted.results[0].deployment : null
        assert.equal(held?.state, 'held')
        assert.deepEqual(held.hold, { until: null, reason: 'frozen: incident 7' })
        assert.deepEqual((await store.getDeployment(held.id))?.hold, held.hold)
        assert.deepEqual(
          (await store.listHeld(10)).map((d) => d.id),
          [held.id],
        )
        assert.equal((await store.setFreeze('web', null))?.freeze, undefined)
      },
    )

    withStore(
      'a held deployment records a new hold, and is released once: the second release finds none',
      async (store) => {
        await store.createService(serviceInput('web'))
        const accepted = await store.acceptCall(call(), [intent('web')])
        const id = accepted.results[0]?.kind === 'queued' ? accepted.results[0].deployment.id : ''
        assert.equal((await store.getDeployment(id))?.hold, null)
        assert.equal(await store.holdDeployment(id, { until: null, reason: 'x' }), undefined)
        await store.moveDeployment(id, ['queued'], 'held')
        const until = '2030-01-07T08:00:00.000Z'
        const rehold = await store.holdDeployment(id, { until, reason: 'outside the windows' })
        assert.deepEqual(rehold?.hold, { until, reason: 'outside the windows' })
        const [first, second] = await Promise.all([
          store.releaseDeployment(id, ['held']),
          store.releaseDeployment(id, ['held']),
        ])
        assert.equal([first, second].filter(Boolean).length, 1)
        const released = first ?? second
        assert.equal(released?.state, 'queued')
        assert.equal(released.hold, null)
        assert.deepEqual(await store.listHeld(10), [])
        assert.equal((await store.claimNext('w1', 30_000))?.id, id)
      },
    )

    withStore(
      'a pending deployment of any kind can be canceled, and deleting the service cancels it',
      async (store) => {
        await store.createService(serviceInput('web'))
        await store.createService(serviceInput('api'))
        const ids: string[] = []
        for (const name of ['web', 'api']) {
          const accepted = await store.acceptCall(call(), [intent(name)])
          ids.push(accepted.results[0]?.kind === 'queued' ? accepted.results[0].deployment.id : '')
        }
        await store.moveDeployment(ids[0]!, ['queued'], 'awaiting-approval')
        await store.moveDeployment(ids[1]!, ['queued'], 'held')
        assert.equal((await store.cancelDeployment(ids[0]!))?.state, 'canceled')
        assert.equal(await store.deleteService('api'), true)
        assert.equal((await store.getDeployment(ids[1]!))?.state, 'canceled')
      },
    )

    withStore(
      'one deployment runs per service; others wait; claims fence on the owner',
      async (store) => {
        await store.createService(serviceInput('a'))
        await store.createService(serviceInput('b'))
        await store.acceptCall(call(), [intent('a')])
        await store.acceptCall(call(), [intent('b')])
        await store.acceptCall(call(), [intent('a', { action: 'scale', params: { by: 1 } })])
        assert.equal(await store.countDeployments('queued'), 3)
        const one = await store.claimNext('w1', 30_000)
        const two = await store.claimNext('w1', 30_000)
        assert.equal(await store.countDeployments('running'), 2)
        assert.equal(await store.countDeployments('queued'), 1)
        assert.deepEqual([one?.service, two?.service].sort(), ['a', 'b'])
        assert.equal(await store.claimNext('w1', 30_000), undefined)
        assert.equal(
          await store.finishDeployment(one!.id, 'someone-else', { state: 'succeeded' }),
          false,
        )
        assert.equal(
          await store.finishDeployment(one!.id, 'w1', { state: 'succeeded', replicas: 1 }),
          true,
        )
        if (one?.service === 'a') {
          assert.equal((await store.claimNext('w1', 30_000))?.action, 'scale')
        }
        assert.equal((await store.getDeployment(one!.id))?.state, 'succeeded')
      },
    )

    withStore(
      'a succeeded deployment records the image and digest it ran; a failed one neither',
      async (store) => {
        await store.createService(serviceInput('a'))
        const digest = `sha256:${'a'.repeat(64)}`
        await store.acceptCall(call(), [intent('a', { params: { tag: '2' } })])
        const ran = await store.claimNext('w1', 30_000)
        assert.equal(ran?.image, null)
        assert.equal(ran?.digest, null)
        await store.finishDeployment(ran!.id, 'w1', {
          state: 'succeeded',
          tag: '2',
          image: 'registry:5000/acme/web:2',
          digest,
        })
        const recorded = await store.getDeployment(ran!.id)
        assert.equal(recorded?.image, 'registry:5000/acme/web:2')
        assert.equal(recorded?.digest, digest)
        assert.equal((await store.lastSucceededBefore('a', null))?.digest, digest)
        assert.equal(
          (await store.listDeployments({ service: 'a' }, { limit: 5 })).items[0]?.digest,
          digest,
        )
        await store.acceptCall(call(), [intent('a', { params: { tag: '3' } })])
        const failed = await store.claimNext('w1', 30_000)
        await store.finishDeployment(failed!.id, 'w1', { state: 'failed', error: 'no' })
        assert.equal((await store.getDeployment(failed!.id))?.digest, null)
      },
    )

    withStore(
      'a service runs what it was created with; a succeeded redeploy sets what it deployed',
      async (store) => {
        const created = await store.createService(serviceInput('a', { image: 'acme/a' }))
        assert.deepEqual(created.deployed, {
          target: { redeploy: 'true', scale: 'true' },
          image: 'acme/a',
        })
        const patched = await store.replaceService(
          serviceInput('a', { target: { redeploy: 'v2' }, image: 'acme/b' }),
        )
        assert.deepEqual(
          patched?.deployed,
          created.deployed,
          'a PATCH changes the spec, not what runs',
        )
        await store.acceptCall(call(), [intent('a')])
        const claimed = await store.claimNext('w1', 30_000)
        const deployed = { target: { redeploy: 'v2' }, image: 'acme/b' }
        assert.equal(
          await store.finishDeployment(claimed!.id, 'w1', { state: 'succeeded', deployed }),
          true,
        )
        assert.deepEqual((await store.getService('a'))?.deployed, deployed)
        assert.equal((await store.getDeployment(claimed!.id))?.tried, null)
      },
    )

    withStore(
      'a failed redeploy records what it tried and puts the service row back to what runs',
      async (store) => {
        await store.createService(serviceInput('a', { image: 'acme/a' }))
        await store.replaceService(
          serviceInput('a', { target: { redeploy: 'exit 1' }, image: 'acme/b' }),
        )
        await store.acceptCall(call(), [intent('a', { params: { tag: 'bad' } })])
        const claimed = await store.claimNext('w1', 30_000)
        const tried = { target: { redeploy: 'exit 1' }, image: 'acme/b', tag: 'bad' }
        assert.equal(
          await store.finishDeployment(claimed!.id, 'w1', {
            state: 'failed',
            error: 'boom',
            tried,
          }),
          true,
        )
        assert.deepEqual((await store.getDeployment(claimed!.id))?.tried, tried)
        const service = await store.getService('a')
        assert.deepEqual(service?.target, { redeploy: 'true', scale: 'true' })
        assert.equal(service?.image, 'acme/a')
        assert.equal(service?.tag, null, 'the tag tried is not taken')
        assert.deepEqual(
          (await store.listDeployments({ service: 'a' }, { limit: 1 })).items[0]?.tried,
          tried,
        )
      },
    )

    withStore(
      'a failed redeploy leaves a service row PATCHed again while it ran',
      async (store) => {
        await store.createService(serviceInput('a'))
        await store.replaceService(serviceInput('a', { target: { redeploy: 'exit 1' } }))
        await store.acceptCall(call(), [intent('a')])
        const claimed = await store.claimNext('w1', 30_000)
        await store.replaceService(serviceInput('a', { target: { redeploy: 'newer' } }))
        const tried = { target: { redeploy: 'exit 1' } }
        assert.equal(
          await store.finishDeployment(claimed!.id, 'w1', {
            state: 'canceled',
            error: 'canceled',
            tried,
          }),
          true,
        )
        assert.deepEqual((await store.getService('a'))?.target, { redeploy: 'newer' })
        assert.deepEqual((await store.getDeployment(claimed!.id))?.tried, tried)
      },
    )

    withStore(
      'two creates of one trigger name at once: one is refused, by the database',
      async (store) => {
        await store.createService(serviceInput('web'))
        await store.createStack({ name: 'shop', services: ['web'] })
        const options = {
          name: 'hub',
          action: 'redeploy' as const,
          by: 1,
          sender: 'auto' as const,
          secret: null,
          allowIps: [],
          passBody: true,
          envFromQuery: [],
          secretEnvFromQuery: [],
          allowTag: true,
          reverseOnResolve: false,
          cooldownMs: 0,
          rateLimit: { count: 60, perMs: 60_000 },
        }
        const trigger = (id: string, owner: { service?: string; stack?: string }) => ({
          ...options,
          id,
          service: owner.service ?? null,
          stack: owner.stack ?? null,
          tokenHash: `hash-${id}`,
        })
        const both = await Promise.allSettled([
          store.createTrigger(trigger('trg_a', { service: 'web' })),
          store.createTrigger(trigger('trg_b', { service: 'web' })),
        ])
        assert.deepEqual(both.map((r) => r.status).sort(), ['fulfilled', 'rejected'])
        const refused = both.find((r) => r.status === 'rejected')
        assert.equal(
          refused?.status === 'rejected' && refused.reason.code,
          'DH_ERR_TRIGGER_NAME_TAKEN',
        )
        assert.match(
          String(refused?.status === 'rejected' && refused.reason.message),
          /service web already has a trigger named hub/,
        )
        // Another owner may use the name; a revoked trigger frees it; a rename onto it is refused.
        await store.createTrigger(trigger('trg_c', { stack: 'shop' }))
        const other = await store.createTrigger({
          ...trigger('trg_d', { service: 'web' }),
          name: 'other',
        })
        await assert.rejects(store.updateTrigger(other.id, options), {
          code: 'DH_ERR_TRIGGER_NAME_TAKEN',
        })
        const kept = both.find((r) => r.status === 'fulfilled')
        assert.equal(
          await store.revokeTrigger(kept?.status === 'fulfilled' ? kept.value.id : ''),
          true,
        )
        assert.equal((await store.updateTrigger(other.id, options))?.name, 'hub')
      },
    )

    withStore('cancel ends a queued deployment and flags a running one', async (store) => {
      await store.createService(serviceInput('a'))
      const queued = await store.acceptCall(call(), [intent('a')])
      const id = queued.results[0]?.kind === 'queued' ? queued.results[0].deployment.id : ''
      const claimed = await store.claimNext('w1', 30_000)
      assert.equal(claimed?.id, id)
      await store.acceptCall(call(), [intent('a')])
      const page = await store.listDeployments({ service: 'a', state: 'queued' }, { limit: 5 })
      assert.equal((await store.cancelDeployment(page.items[0]!.id))?.state, 'canceled')
      assert.equal((await store.cancelDeployment(id))?.cancelRequested, true)
      assert.deepEqual(await store.renewLease(id, 'w1', 30_000), {
        held: true,
        cancelRequested: true,
      })
      assert.deepEqual(await store.renewLease(id, 'w2', 30_000), {
        held: false,
        cancelRequested: true,
      })
    })

    withStore('abandoned running deployments are failed with the reason', async (store) => {
      await store.createService(serviceInput('a'))
      await store.acceptCall(call(), [intent('a')])
      const claimed = await store.claimNext('w1', 1)
      assert.deepEqual(await store.failAbandoned('instance lost', { owner: 'w2' }), [])
      const failed = await store.failAbandoned('interrupted', 'all')
      assert.deepEqual(
        failed.map((d) => d.id),
        [claimed!.id],
      )
      const after = await store.getDeployment(claimed!.id)
      assert.equal(after?.state, 'failed')
      assert.equal(after?.error, 'interrupted')
    })

    withStore(
      'a redeploy failed as abandoned records what it tried and puts the service row back',
      async (store) => {
        await store.createService(serviceInput('a', { image: 'acme/a' }))
        await store.replaceService(
          serviceInput('a', { target: { redeploy: 'sleep 600' }, image: 'acme/b' }),
        )
        await store.acceptCall(call(), [intent('a', { params: { tag: 'next' } })])
        const claimed = await store.claimNext('w1', 30_000)
        const tried = { target: { redeploy: 'sleep 600' }, image: 'acme/b', tag: 'next' }
        const [failed] = await store.failAbandoned('interrupted', 'all')
        assert.deepEqual(failed?.tried, tried)
        assert.deepEqual((await store.getDeployment(claimed!.id))?.tried, tried)
        const service = await store.getService('a')
        assert.deepEqual(service?.target, { redeploy: 'true', scale: 'true' })
        assert.equal(service?.image, 'acme/a')
      },
    )

    withStore('a scale failed as abandoned records nothing tried', async (store) => {
      await store.createService(serviceInput('a'))
      await store.acceptCall(call(), [intent('a', { action: 'scale', params: { replicas: 2 } })])
      const claimed = await store.claimNext('w1', 30_000)
      await store.failAbandoned('interrupted', 'all')
      assert.equal((await store.getDeployment(claimed!.id))?.tried, null)
    })

    withStore('log lines keep their order and page by sequence', async (store) => {
      const at = new Date().toISOString()
      await store.appendLog('dpl_x', [
        { at, stream: 'deckhand', line: 'one' },
        { at, stream: 'stdout', line: 'two' },
      ])
      await store.appendLog('dpl_x', [{ at, stream: 'stderr', line: 'three' }])
      assert.deepEqual(
        (await store.readLog('dpl_x', 0, 10)).map((l) => [l.seq, l.line]),
        [
          [1, 'one'],
          [2, 'two'],
          [3, 'three'],
        ],
      )
      assert.deepEqual(
        (await store.readLog('dpl_x', 2, 10)).map((l) => l.line),
        ['three'],
      )
    })

    withStore('a delivery id is found again within the window', async (store) => {
      const since = new Date(Date.now() - 60_000).toISOString()
      await store.recordCall({
        ...call(),
        deliveryId: 'abc',
        outcome: 'ignored',
        status: 200,
        reason: 'ping',
      })
      assert.equal((await store.findCallByDelivery('trg_1', 'abc', since))?.reason, 'ping')
      assert.equal(
        await store.findCallByDelivery('trg_1', 'abc', new Date(Date.now() + 1000).toISOString()),
        undefined,
      )
    })

    withStore('admin tokens are found by hash only and can be deleted', async (store) => {
      assert.equal(await store.countAdminTokens(), 0)
      await store.createAdminToken({ id: 'tok_1', name: 'ci', tokenHash: 'hash' })
      const used = await store.useAdminToken('hash')
      assert.equal(used?.name, 'ci')
      assert.ok(used?.lastUsedAt, 'the use is recorded')
      assert.equal(
        (await store.listAdminTokens({ limit: 10 })).items[0]?.lastUsedAt,
        used?.lastUsedAt,
      )
      assert.equal(await store.useAdminToken('other'), undefined)
      assert.equal(
        JSON.stringify(await store.listAdminTokens({ limit: 10 })).includes('hash'),
        false,
      )
      assert.equal(await store.deleteAdminToken('tok_1'), true)
      assert.equal(await store.useAdminToken('hash'), undefined)
    })

    withStore('stacks are created, replaced and deleted', async (store) => {
      await store.createStack({ name: 'shop', services: ['a', 'b'] })
      await assert.rejects(store.createStack({ name: 'shop', services: [] }), /already exists/)
      assert.deepEqual((await store.replaceStack({ name: 'shop', services: ['a'] }))?.services, [
        'a',
      ])
      assert.equal(await store.deleteStack('shop'), true)
      assert.equal(await store.getStack('shop'), undefined)
    })

    runPruneContract(withStore)
    runApprovalsContract(withStore)
    runWatchContract(withStore)
  })
}
