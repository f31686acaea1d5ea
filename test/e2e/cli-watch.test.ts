// `service show` as a description, and -w/--watch on `service ls`, `deploy ls` and `service show`:
// each watch is a real child process, ended by SIGINT once the change the test made is printed.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { after, before, describe, test } from 'node:test'

import { commandService, startTestServer, type TestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'
import { BIN, cliFor, type CliRun } from './cli-support.ts'

let server: TestServer
let cli: (...args: string[]) => Promise<CliRun>

const ok = (run: CliRun): CliRun => {
  assert.equal(run.code, 0, `expected success, got ${run.code}: ${run.stderr}`)
  return run
}

before(async () => {
  server = await startTestServer(undefined)
  cli = cliFor(server)
})
after(() => server.close())

const SLEEPER = `${JSON.stringify(process.execPath)} -e "setInterval(() => {}, 1 << 30)"`

describe('service show', () => {
  test('describes target, image, replicas, each instance, the last deployments and the triggers', async (t) => {
    const created = await server.api('POST', '/api/v1/services', {
      name: 'desc-web',
      driver: 'process',
      image: 'acme/web',
      target: { command: SLEEPER, replicas: 2, health: { runningFor: '100ms' } },
      scale: { min: 1, max: 4 },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    t.after(() => server.api('DELETE', '/api/v1/services/desc-web'))
    const trigger = (
      await server.api('POST', '/api/v1/services/desc-web/triggers', {
        action: 'scale-up',
        name: 'alerts',
      })
    ).body
    await waitFor(
      async () =>
        (await server.api('GET', '/api/v1/services/desc-web')).body.status.items.filter(
          (i: any) => i.state === 'running',
        ).length === 2,
      { what: 'two running replicas' },
    )
    const deployment = JSON.parse(ok(await cli('redeploy', 'desc-web', '--wait', '--json')).stdout)

    const text = ok(await cli('service', 'show', 'desc-web')).stdout
    assert.match(text, /^name: +desc-web$/m)
    assert.match(text, /^driver: +process$/m)
    assert.match(text, /^target: +command=.* replicas=2 health\.runningFor=100ms$/m)
    assert.match(text, /^image: +acme\/web$/m)
    const status = (await server.api('GET', '/api/v1/services/desc-web')).body.status
    if (typeof status.ready === 'number') {
      assert.match(text, new RegExp(`^replicas: +${status.ready}/${status.desired} ready$`, 'm'))
    } else {
      assert.match(text, /^replicas: +2 desired, 2 running$/m)
    }
    assert.match(text, /^health: +healthy$/m)
    assert.match(text, /^instances:\n {2}REPLICA +STATE +.*RESTARTS/m)
    assert.equal(text.match(/^ {2}\S+ +running /gm)?.length, 2, text)
    assert.match(
      text,
      new RegExp(
        `^last deployments:\\n {2}ID .*\\n {2}${deployment.id} +redeploy +succeeded `,
        'm',
      ),
    )
    assert.match(
      text,
      new RegExp(`^triggers:\\n {2}ID .*\\n {2}${trigger.id} +alerts +scale-up 1 `, 'm'),
    )
    assert.doesNotMatch(text, /^\{/m, 'no raw JSON')

    const asJson = JSON.parse(ok(await cli('service', 'show', 'desc-web', '-o', 'json')).stdout)
    assert.equal(asJson.name, 'desc-web')
    // Newest first: the redeploy, then the first start the service's creation recorded.
    assert.equal(asJson.deployments.length, 2)
    assert.equal(asJson.deployments[0].id, deployment.id)
    assert.deepEqual(
      asJson.triggers.map((d: any) => d.id),
      [trigger.id],
    )
  })

  test('a command service says what its driver cannot see, and what to do when there is nothing yet', async (t) => {
    await server.api('POST', '/api/v1/services', commandService('desc-cmd'))
    t.after(() => server.api('DELETE', '/api/v1/services/desc-cmd'))
    const text = ok(await cli('service', 'show', 'desc-cmd')).stdout
    assert.match(text, /^runtime: +the command driver cannot see what runs/m)
    assert.match(text, /^health: +unknown$/m)
    assert.match(text, /^instances: the driver reports no instances$/m)
    assert.match(text, /^last deployments: none yet; deploy with `deckhand redeploy desc-cmd`$/m)
    assert.match(text, /^triggers: none; add one with `deckhand trigger add desc-cmd`$/m)
  })
})

/** A `deckhand … --watch` child whose stdout is collected as it comes. */
function watch(...args: string[]) {
  const child = spawn(BIN, [...args, '--watch-interval', '100ms'], {
    env: {
      ...process.env,
      DECKHAND_URL: server.url,
      DECKHAND_TOKEN: server.token,
      XDG_CONFIG_HOME: '/nonexistent',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => (stdout += chunk))
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return {
    output: () => stdout,
    seen: (pattern: RegExp, what: string) =>
      waitFor(() => pattern.test(stdout), { what: `${what}; got ${stdout}${stderr}` }),
    /** Ends the watch as Ctrl-C does and resolves with the exit code. */
    stop: async () => {
      child.kill('SIGINT')
      return exited
    },
  }
}

describe('--watch', () => {
  test('service ls -w prints the table again when a service is added, and exits 0 on SIGINT', async (t) => {
    const run = watch('service', 'ls', '-w')
    t.after(() => run.stop())
    await run.seen(/^(NAME +DRIVER|no services yet)/m, 'the first view')
    await server.api('POST', '/api/v1/services', commandService('watch-new'))
    t.after(() => server.api('DELETE', '/api/v1/services/watch-new'))
    await run.seen(/^watch-new +command /m, 'the new service')
    assert.equal(await run.stop(), 0)
    // Printed again only when something changed: the new service appears in one view.
    assert.equal(run.output().match(/^watch-new /gm)?.length, 1, run.output())
  })

  test('deploy ls -w -o json prints one line per change as a deployment moves on', async (t) => {
    await server.api('POST', '/api/v1/services', commandService('watch-dep', 'echo done'))
    t.after(() => server.api('DELETE', '/api/v1/services/watch-dep'))
    const run = watch('deploy', 'ls', '--service', 'watch-dep', '-w', '-o', 'json')
    t.after(() => run.stop())
    await run.seen(/^\[\]$/m, 'the empty first listing')
    ok(await cli('redeploy', 'watch-dep', '--wait'))
    await run.seen(/"state":"succeeded"/, 'the finished deployment')
    assert.equal(await run.stop(), 0)
    const views = run
      .output()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line))
    assert.deepEqual(views[0], [])
    assert.equal(views.at(-1)[0].state, 'succeeded')
  })

  test('service show -w redraws when a trigger is added', async (t) => {
    await server.api('POST', '/api/v1/services', commandService('watch-show'))
    t.after(() => server.api('DELETE', '/api/v1/services/watch-show'))
    const run = watch('service', 'show', 'watch-show', '-w')
    t.after(() => run.stop())
    await run.seen(/^triggers: none/m, 'the first description')
    const trigger = (
      await server.api('POST', '/api/v1/services/watch-show/triggers', {
        action: 'redeploy',
        name: 'hub',
      })
    ).body
    await run.seen(new RegExp(`^ {2}${trigger.id} +hub `, 'm'), 'the new trigger')
    assert.equal(await run.stop(), 0)
  })
})
