/** GuardedDriver around a scripted inner driver: deadlines, aborts, throws, the log cap, timing. */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { DeployFailure } from './deploy-failure.ts'
import type { Driver, DriverContext, DriverOutcome } from './driver.ts'
import { makeContext, makeService } from './driver-contract.ts'
import { GuardedDriver } from './guarded-driver.ts'

const SERVICE = makeService({ name: 'web', driver: 'command', target: {} })
const NO_CHANGE = { tag: undefined, env: {} }

/** An inner driver whose redeploy runs `redeploy`; the rest is inert. A spy, not a stand-in. */
function scripted(
  redeploy: (ctx: DriverContext) => Promise<DriverOutcome> | DriverOutcome,
): Driver {
  return {
    name: 'command',
    capabilities: {
      canScale: true,
      canChangeTag: false,
      canRollBack: false,
      waitsForHealth: false,
    },
    checkTarget: () => {
      throw new Error('checker broke')
    },
    redeploy: async (_service, _change, ctx) => redeploy(ctx),
    scale: async (_service, _replicas, _change, ctx) => redeploy(ctx),
    inspect: async () => ({
      replicas: 3,
      ready: 3,
      desired: 3,
      image: null,
      healthy: true,
      items: [],
    }),
    attach: async () => {},
    detach: async () => {},
    ping: async () => {},
    close: async () => {},
  }
}

/** Resolves when the inner driver's signal aborts, as a well-behaved driver does. */
function untilAborted(ctx: DriverContext): Promise<DriverOutcome> {
  return new Promise((resolve) => {
    ctx.signal.addEventListener('abort', () => resolve({ state: 'failed', error: 'stopped' }))
  })
}

test('a call that outlives its deadline is failed with the deadline in the message', async () => {
  let innerSawAbort = false
  const guarded = new GuardedDriver(
    scripted(async (ctx) => {
      const outcome = await untilAborted(ctx)
      innerSawAbort = true
      return outcome
    }),
  )
  const { ctx, lines } = makeContext({ timeoutMs: 1000 })
  const outcome = await guarded.redeploy(SERVICE, NO_CHANGE, ctx)
  // The budget left when the guard starts is 1s less the scheduling delay of a loaded machine.
  assert.equal(outcome.state, 'failed')
  assert.match(
    outcome.state === 'failed' ? outcome.error : '',
    /^deadline of (1s|9\d\dms) passed before the redeploy finished$/,
  )
  assert.ok(innerSawAbort, 'the inner driver was told to stop')
  assert.match(
    lines.at(-1) ?? '',
    /^redeploy failed after [01]\.\d\ds: deadline of (1s|9\d\dms) passed/,
  )
})

test('an abort fails the call as canceled, and an already aborted one never reaches the driver', async () => {
  let calls = 0
  const guarded = new GuardedDriver(
    scripted((ctx) => {
      calls += 1
      return untilAborted(ctx)
    }),
  )
  const controller = new AbortController()
  const { ctx } = makeContext({ signal: controller.signal })
  const pending = guarded.scale(SERVICE, 2, NO_CHANGE, ctx)
  controller.abort()
  const outcome = await pending
  assert.equal(outcome.state, 'failed')
  assert.match(
    outcome.state === 'failed' ? outcome.error : '',
    /^canceled: the scale was stopped after/,
  )
  const again = await guarded.scale(SERVICE, 2, NO_CHANGE, ctx)
  assert.equal(again.state, 'failed')
  assert.equal(calls, 1)
})

test('a driver that ignores the abort is given up on after the settle time', async () => {
  const guarded = new GuardedDriver(
    scripted(() => new Promise(() => {})),
    { settleMs: 100 },
  )
  const controller = new AbortController()
  const { ctx } = makeContext({ signal: controller.signal })
  const pending = guarded.redeploy(SERVICE, NO_CHANGE, ctx)
  controller.abort()
  const outcome = await pending
  assert.match(
    outcome.state === 'failed' ? outcome.error : '',
    /the driver had not stopped 0\.10s later$/,
  )
})

test('a throw becomes a failed outcome with the message and without the stack', async () => {
  const guarded = new GuardedDriver(
    scripted(() => {
      throw new Error('socket hang up')
    }),
  )
  const outcome = await guarded.redeploy(SERVICE, NO_CHANGE, makeContext().ctx)
  assert.deepEqual(outcome, { state: 'failed', error: 'socket hang up' })
  const odd = new GuardedDriver(scripted(() => undefined as unknown as DriverOutcome))
  const none = await odd.redeploy(SERVICE, NO_CHANGE, makeContext().ctx)
  assert.deepEqual(none, {
    state: 'failed',
    error: 'the command driver returned no outcome for the redeploy',
  })
})

test('a throw is worded by describeFailure and logged; a DeployFailure keeps its words', async () => {
  const engineError = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
  const thrown: unknown[] = [
    engineError,
    new DeployFailure('no container matches the target'),
    new Error('odd'),
  ]
  const worded = 'the engine at unix:///run/docker.sock refused a request: connect ECONNREFUSED'
  const described: unknown[] = []
  const inner: Driver = {
    ...scripted(() => {
      throw thrown.shift()
    }),
    describeFailure: (error) => {
      described.push(error)
      if (error instanceof Error && error.message === 'odd') {
        throw new Error('the describer broke')
      }
      return `the engine at unix:///run/docker.sock refused a request: ${(error as Error).message}`
    },
  }
  const guarded = new GuardedDriver(inner)
  const first = makeContext()
  assert.deepEqual(await guarded.redeploy(SERVICE, NO_CHANGE, first.ctx), {
    state: 'failed',
    error: 'the engine at unix:///run/docker.sock refused a request: connect ECONNREFUSED',
  })
  assert.ok(first.lines.some((line) => line.endsWith(`: ${worded}`)))
  assert.deepEqual(await guarded.scale(SERVICE, 2, NO_CHANGE, makeContext().ctx), {
    state: 'failed',
    error: 'no container matches the target',
  })
  // A describer that throws costs the reason nothing: the error's own message is recorded.
  const odd = await guarded.redeploy(SERVICE, NO_CHANGE, makeContext().ctx)
  assert.deepEqual(odd, { state: 'failed', error: 'odd' })
  assert.equal(described.length, 2, 'describeFailure is not asked about a DeployFailure')
})

test('a thrown failure quoting logged output writes neither again, only what is new', async () => {
  const guarded = new GuardedDriver(
    scripted((ctx) => {
      ctx.log('boom', 'stdout')
      ctx.log('second line', 'stdout')
      throw new DeployFailure(
        'the new container did not become healthy; its last log lines:\nboom\nsecond line\n' +
          'restoring the previous container failed too: it is gone',
      )
    }),
  )
  const { ctx, lines } = makeContext()
  await guarded.redeploy(SERVICE, NO_CHANGE, ctx)
  assert.deepEqual(lines.slice(0, -1), [
    'boom',
    'second line',
    'restoring the previous container failed too: it is gone',
  ])
  assert.match(
    lines.at(-1)!,
    /^redeploy failed after .*: the new container did not become healthy$/,
  )
})

test('the log keeps 5000 driver lines, then one line saying the rest was dropped', async () => {
  const guarded = new GuardedDriver(
    scripted((ctx) => {
      for (let i = 1; i <= 6000; i++) {
        ctx.log(`line ${i}`, 'stdout')
      }
      return { state: 'succeeded' }
    }),
  )
  const { ctx, lines } = makeContext()
  await guarded.redeploy(SERVICE, NO_CHANGE, ctx)
  assert.equal(lines.length, 5002)
  assert.equal(lines[4999], 'line 5000')
  assert.equal(lines[5000], 'log capped at 5000 lines: the rest of this output is dropped')
  assert.match(lines[5001] ?? '', /^redeploy finished in \d+\.\d\ds \(1000 log lines dropped\)$/)
})

test('secret values of the change are redacted and long lines are cut', async () => {
  const change = { tag: undefined, env: { API_TOKEN: 'tok-123456', RELEASE: 'blue' } }
  const guarded = new GuardedDriver(
    scripted((ctx) => {
      ctx.log('token is tok-123456, release blue')
      ctx.log('x'.repeat(9000))
      return { state: 'succeeded', replicas: 2 }
    }),
  )
  const { ctx, lines } = makeContext()
  const outcome = await guarded.redeploy(SERVICE, change, ctx)
  assert.deepEqual(outcome, { state: 'succeeded', replicas: 2 })
  assert.equal(lines[0], 'token is [redacted], release blue')
  assert.equal(lines[1], `${'x'.repeat(8192)}… (808 more characters)`)
})

test('lines written after the call returned are dropped, and a failing log writer fails nothing', async () => {
  let late: DriverContext | undefined
  const guarded = new GuardedDriver(
    scripted((ctx) => {
      late = ctx
      ctx.log('on time')
      return { state: 'succeeded' }
    }),
  )
  const { ctx, lines } = makeContext()
  await guarded.redeploy(SERVICE, NO_CHANGE, ctx)
  late?.log('too late')
  assert.equal(lines.includes('too late'), false)

  const broken = {
    ...makeContext().ctx,
    log: () => {
      throw new Error('store down')
    },
  }
  assert.deepEqual(await guarded.redeploy(SERVICE, NO_CHANGE, broken), { state: 'succeeded' })
})

test('other methods delegate, and a throwing checkTarget becomes a problem', async () => {
  const guarded = new GuardedDriver(scripted(() => ({ state: 'succeeded' })))
  assert.equal(guarded.name, 'command')
  assert.equal(guarded.capabilities.canScale, true)
  assert.equal((await guarded.inspect(SERVICE)).replicas, 3)
  assert.deepEqual(guarded.checkTarget({}), ['target could not be checked: checker broke'])
})

test('the summary line ends with the failure sentence, not the lead-in to output already in the log', async () => {
  for (const [error, headline] of [
    [
      'replica 0 exited with code 1; its last output:\nbroken build',
      'replica 0 exited with code 1',
    ],
    [
      'the new container for web did not become healthy: it exited; its last log lines:\nboom',
      'the new container for web did not become healthy: it exited',
    ],
    [
      'the redeploy command exited with code 1; it wrote no output',
      'the redeploy command exited with code 1; it wrote no output',
    ],
  ] as const) {
    const guarded = new GuardedDriver(scripted(() => ({ state: 'failed', error })))
    const { ctx, lines } = makeContext()
    await guarded.redeploy(SERVICE, NO_CHANGE, ctx)
    assert.match(lines.at(-1) ?? '', /^redeploy failed after \d+\.\d\ds: /)
    assert.equal(lines.at(-1)?.replace(/^redeploy failed after \d+\.\d\ds: /, ''), headline)
  }
})
