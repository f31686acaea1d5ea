/** A service's deploy.before and deploy.after hooks through the real server, on the command driver. */
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'

import { freePort } from '../support/spawn-server.ts'
import { commandService, startTestServer, type TestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

type LogLine = { line: string; stream: string }

function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'deckhand-hooks-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function deploy(server: TestServer, service: string): Promise<string> {
  const started = await server.api('POST', `/api/v1/services/${service}/deployments`, {
    action: 'redeploy',
  })
  assert.equal(started.status, 202, JSON.stringify(started.body))
  return started.body.id ?? started.body.deployments?.[0]?.id
}

async function ended(
  server: TestServer,
  id: string,
): Promise<{ state: string; error: string | null; log: LogLine[] }> {
  const deployment = await waitFor(
    async () => {
      const d = (await server.api('GET', `/api/v1/deployments/${id}`)).body
      return ['succeeded', 'failed', 'canceled'].includes(d.state) ? d : undefined
    },
    { what: `deployment ${id} to end`, timeoutMs: 30_000 },
  )
  const log = (await server.api('GET', `/api/v1/deployments/${id}/log?limit=1000`)).body
    .items as LogLine[]
  return { state: deployment.state, error: deployment.error, log }
}

const lines = (log: LogLine[]): string[] => log.map((l) => l.line)

test('a failing deploy.before fails the deployment with its output, and the runtime is never touched', async (t) => {
  const server = await startTestServer(t)
  const dir = scratch(t)
  const marker = join(dir, 'redeployed')
  const service = commandService('web', `touch ${marker}`, {
    deploy: { before: 'echo checking the schema; echo "migration lock held" >&2; exit 4' },
  })
  assert.equal((await server.api('POST', '/api/v1/services', service)).status, 201)
  const { state, error, log } = await ended(server, await deploy(server, 'web'))
  assert.equal(state, 'failed')
  assert.equal(
    error,
    'the deploy.before hook exited with code 4; its last output:\nchecking the schema\nmigration lock held',
  )
  assert.ok(
    log.some((l) => l.line === 'checking the schema' && l.stream === 'stdout'),
    JSON.stringify(log),
  )
  assert.ok(
    log.some((l) => l.line === 'migration lock held' && l.stream === 'stderr'),
    JSON.stringify(log),
  )
  assert.equal(lines(log).at(-1), 'deployment failed: the deploy.before hook exited with code 4')
  assert.ok(
    !lines(log).some((l) => l.startsWith('running the redeploy command')),
    JSON.stringify(log),
  )
  assert.equal(existsSync(marker), false)

  // A before hook that succeeds lets the deployment go on to the runtime.
  await server.api('PATCH', '/api/v1/services/web', { deploy: { before: 'echo all clear' } })
  const next = await ended(server, await deploy(server, 'web'))
  assert.equal(next.state, 'succeeded')
  assert.ok(
    lines(next.log).indexOf('all clear') <
      lines(next.log).indexOf('running the redeploy command of web'),
  )
  assert.equal(existsSync(marker), true)
})

test('deploy.after runs on success, failure and cancel, sees DECKHAND_DEPLOYMENT_STATE, and never changes the outcome', async (t) => {
  const server = await startTestServer(t)
  const dir = scratch(t)
  const after = {
    run: `echo "after saw $DECKHAND_DEPLOYMENT_STATE for $DECKHAND_SERVICE"; echo $DECKHAND_DEPLOYMENT_STATE > ${dir}/$DECKHAND_DEPLOYMENT_ID; exit 9`,
    timeout: '10s',
  }
  await server.api(
    'POST',
    '/api/v1/services',
    commandService('good', 'echo deployed', { deploy: { after } }),
  )
  await server.api(
    'POST',
    '/api/v1/services',
    commandService('bad', 'echo broken >&2; exit 3', { deploy: { after } }),
  )
  await server.api(
    'POST',
    '/api/v1/services',
    commandService('slow', 'echo started; sleep 30', { deploy: { after } }),
  )

  const goodId = await deploy(server, 'good')
  const good = await ended(server, goodId)
  assert.equal(good.state, 'succeeded')
  assert.equal(good.error, null)
  assert.ok(lines(good.log).includes('after saw succeeded for good'), JSON.stringify(good.log))
  assert.ok(
    lines(good.log).includes(
      'the deploy.after hook exited with code 9; the deployment stays succeeded',
    ),
  )
  // The hook ran before the deployment was finished: its file is there as soon as the state is.
  assert.equal(readFileSync(join(dir, goodId), 'utf8'), 'succeeded\n')

  const badId = await deploy(server, 'bad')
  const bad = await ended(server, badId)
  assert.equal(bad.state, 'failed')
  assert.match(bad.error!, /^the redeploy command exited with code 3; its last output:\nbroken$/)
  assert.ok(lines(bad.log).includes('after saw failed for bad'))
  assert.equal(readFileSync(join(dir, badId), 'utf8'), 'failed\n')

  const slowId = await deploy(server, 'slow')
  await waitFor(
    async () =>
      lines((await server.api('GET', `/api/v1/deployments/${slowId}/log`)).body.items).includes(
        'started',
      ),
    { what: 'the slow redeploy to start' },
  )
  assert.equal(
    (await server.api('POST', `/api/v1/deployments/${slowId}/cancel`)).status < 300,
    true,
  )
  const slow = await ended(server, slowId)
  assert.equal(slow.state, 'canceled')
  assert.ok(lines(slow.log).includes('after saw canceled for slow'), JSON.stringify(slow.log))
})

test('each hook has its own timeout: a slow before fails the deployment, a slow after leaves it as it was', async (t) => {
  const server = await startTestServer(t)
  const dir = scratch(t)
  const marker = join(dir, 'redeployed')
  await server.api(
    'POST',
    '/api/v1/services',
    commandService('stuck-before', `touch ${marker}`, {
      deploy: { before: { run: 'echo waiting; sleep 30', timeout: '300ms' } },
    }),
  )
  await server.api(
    'POST',
    '/api/v1/services',
    commandService('stuck-after', 'echo deployed', {
      deploy: { after: { run: 'sleep 30', timeout: '300ms' } },
    }),
  )

  const before = await ended(server, await deploy(server, 'stuck-before'))
  assert.equal(before.state, 'failed')
  assert.equal(
    before.error,
    'the deploy.before hook did not finish within 300ms and was killed; its last output:\nwaiting',
  )
  assert.equal(existsSync(marker), false)

  const after = await ended(server, await deploy(server, 'stuck-after'))
  assert.equal(after.state, 'succeeded')
  assert.ok(
    lines(after.log).includes(
      'the deploy.after hook did not finish within 300ms and was killed; the deployment stays succeeded',
    ),
    JSON.stringify(after.log),
  )
})

test('a cancel while deploy.before runs kills the hook and the deployment ends canceled, the runtime untouched', async (t) => {
  const server = await startTestServer(t)
  const dir = scratch(t)
  const marker = join(dir, 'redeployed')
  await server.api(
    'POST',
    '/api/v1/services',
    commandService('web', `touch ${marker}`, { deploy: { before: 'echo holding; sleep 30' } }),
  )
  const id = await deploy(server, 'web')
  await waitFor(
    async () =>
      lines((await server.api('GET', `/api/v1/deployments/${id}/log`)).body.items).includes(
        'holding',
      ),
    { what: 'the before hook to start' },
  )
  assert.ok((await server.api('POST', `/api/v1/deployments/${id}/cancel`)).status < 300)
  const { state, error, log } = await ended(server, id)
  assert.equal(state, 'canceled')
  assert.equal(error, 'canceled by an operator')
  assert.ok(
    lines(log).includes('the deploy.before hook was stopped: canceled by an operator'),
    JSON.stringify(log),
  )
  assert.equal(existsSync(marker), false)
})

test("hooks get the child environment and the deployment's, not Deckhand's own, and their output is redacted", async (t) => {
  process.env.DECKHAND_HOOK_TEST_PRIVATE = 'not-for-children'
  t.after(() => delete process.env.DECKHAND_HOOK_TEST_PRIVATE)
  const server = await startTestServer(t)
  const printed =
    'for v in PATH DECKHAND_HOOK_TEST_PRIVATE DECKHAND_TRIGGER_NAME DECKHAND_ACTION DECKHAND_SERVICE DECKHAND_IMAGE_TAG STAGE DECKHAND_DEPLOYMENT_STATE; do eval "echo $v=\\${$v-unset}"; done; echo "$DECKHAND_TRIGGER_BODY"'
  await server.api(
    'POST',
    '/api/v1/services',
    commandService('web', 'true', { deploy: { before: printed, after: printed } }),
  )
  const secret = 'hook-s3cr3t-value'
  const trigger = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    name: 'ci',
    secret,
    envFromQuery: ['STAGE'],
  })
  const body = JSON.stringify({ note: `the secret is ${secret}` })
  const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
  const call = await server.hook(`${trigger.body.url}?tag=v7&STAGE=qa`, {
    body,
    headers: { 'content-type': 'application/json', 'x-deckhand-signature': signature },
  })
  assert.equal(call.status, 202, JSON.stringify(call.body))
  const { state, log } = await ended(server, call.body.deployments[0].id)
  assert.equal(state, 'succeeded')
  const all = lines(log)
  const before = all.slice(0, all.indexOf('the deploy.before hook succeeded'))
  const after = all.slice(all.indexOf('deployment succeeded'))
  for (const part of [before, after]) {
    assert.ok(
      part.some((l) => /^PATH=\//.test(l)),
      JSON.stringify(part),
    )
    for (const expected of [
      'DECKHAND_HOOK_TEST_PRIVATE=unset',
      'DECKHAND_TRIGGER_NAME=ci',
      'DECKHAND_ACTION=redeploy',
      'DECKHAND_SERVICE=web',
      'DECKHAND_IMAGE_TAG=v7',
      'STAGE=qa',
    ]) {
      assert.ok(part.includes(expected), `${expected} in ${JSON.stringify(part)}`)
    }
    assert.ok(part.includes('{"note":"the secret is [redacted]"}'), JSON.stringify(part))
  }
  assert.ok(before.includes('DECKHAND_DEPLOYMENT_STATE=unset'))
  assert.ok(after.includes('DECKHAND_DEPLOYMENT_STATE=succeeded'))
  assert.ok(!JSON.stringify(log).includes(secret))
})

test('hooks are written as a string or {run, timeout}, shown back with the timeout, and refused with the field named', async (t) => {
  const server = await startTestServer(t)
  const created = await server.api(
    'POST',
    '/api/v1/services',
    commandService('web', 'true', {
      deploy: { before: './check.sh', after: { run: './notify.sh', timeout: '5m' } },
    }),
  )
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const shown = (await server.api('GET', '/api/v1/services/web')).body
  assert.deepEqual(
    [shown.deploy.before, shown.deploy.after],
    [
      { run: './check.sh', timeout: '1m' },
      { run: './notify.sh', timeout: '5m' },
    ],
  )
  const cleared = await server.api('PATCH', '/api/v1/services/web', { deploy: { before: null } })
  assert.equal(cleared.status, 200, JSON.stringify(cleared.body))
  assert.equal(cleared.body.deploy.before, undefined)
  assert.deepEqual(cleared.body.deploy.after, { run: './notify.sh', timeout: '5m' })
  const badTimeout = await server.api(
    'POST',
    '/api/v1/services',
    commandService('x', 'true', { deploy: { before: { run: 'true', timeout: '2h' } } }),
  )
  assert.equal(badTimeout.status, 400)
  assert.match(
    badTimeout.body.error,
    /deploy\.before\.timeout: must be a duration above 0 and at most 1h/,
  )
  const empty = await server.api(
    'POST',
    '/api/v1/services',
    commandService('y', 'true', { deploy: { after: '  ' } }),
  )
  assert.equal(empty.status, 400)
  assert.match(empty.body.error, /deploy\.after: must be a shell command/)
})

test('on a process service a failing deploy.before leaves the running replica as it was, and target.env reaches the hook', async (t) => {
  const basePort = await freePort()
  const script =
    "require('http').createServer((q, s) => s.end(String(process.pid))).listen(process.env.PORT, '127.0.0.1')"
  const server = await startTestServer(t)
  const service = {
    name: 'proc',
    driver: 'process',
    target: {
      command: `${JSON.stringify(process.execPath)} -e ${JSON.stringify(script)}`,
      basePort,
      replicas: 1,
      health: { http: '/' },
      env: { REGION: 'eu-1' },
    },
    scale: { min: 1, max: 2 },
    deploy: { healthTimeout: '15s' },
  }
  assert.equal((await server.api('POST', '/api/v1/services', service)).status, 201)
  const pid = async () => (await fetch(`http://127.0.0.1:${basePort}/`)).text()
  const running = await waitFor(() => pid().catch(() => undefined), {
    timeoutMs: 15_000,
    what: 'the replica to answer',
  })
  // The hook comes after the first start, which is a deployment too and would run it.
  const hooked = await server.api('PATCH', '/api/v1/services/proc', {
    deploy: { before: 'echo "refusing in $REGION"; exit 1', healthTimeout: '15s' },
  })
  assert.equal(hooked.status, 200, JSON.stringify(hooked.body))
  const { state, error, log } = await ended(server, await deploy(server, 'proc'))
  assert.equal(state, 'failed')
  assert.equal(
    error,
    'the deploy.before hook exited with code 1; its last output:\nrefusing in eu-1',
  )
  assert.ok(
    !lines(log).some((l) => /replica|starting|stopping/i.test(l) && !l.includes('refusing')),
    JSON.stringify(log),
  )
  assert.equal(await pid(), running)
})
