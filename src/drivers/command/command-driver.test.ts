/** The command driver on real shells: the contract, then environment, output, exit codes and kills. */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test, type TestContext } from 'node:test'

import { waitFor } from '../../../test/support/wait-for.ts'
import { changeWithTag, type LogWriter } from '../driver.ts'
import { makeContext, makeService, runDriverContract } from '../driver-contract.ts'
import { GuardedDriver } from '../guarded-driver.ts'
import { readProcStat } from '../process/process-group.ts'
import { CommandDriver } from './command-driver.ts'

// Every shell these tests start inherits this marker, so a leak check can find strays.
const RUN = randomUUID()
process.env.DECKHAND_TEST_RUN = RUN
const NO_CHANGE = { tag: undefined, env: {} }

function readEnvFile(path: string): Record<string, string> {
  const entries = readFileSync(path, 'utf8').split('\0').filter(Boolean)
  return Object.fromEntries(
    entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  )
}

function isAlive(pid: number): boolean {
  const stat = readProcStat(pid)
  return stat !== undefined && stat.state !== 'Z'
}

function strayProcesses(): number[] {
  return readdirSync('/proc')
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid !== process.pid && isAlive(pid))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`DECKHAND_TEST_RUN=${RUN}`)
      } catch {
        return false
      }
    })
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'deckhand-command-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

let serviceCount = 0
function commandService(target: Record<string, unknown>) {
  serviceCount += 1
  return makeService({ name: `cmd-${serviceCount}`, driver: 'command', target })
}

after(async () => {
  await waitFor(() => strayProcesses().length === 0, { timeoutMs: 5000, what: 'no stray shells' })
})

runDriverContract('command', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'deckhand-command-contract-'))
  // $$ is the shell itself, whose /proc environ is exactly what the command was given.
  const record = `cat /proc/$$/environ > "${dir}/$DECKHAND_SERVICE.env"`
  return {
    driver: new CommandDriver(),
    service: () => commandService({ redeploy: record, scale: 'true', timeout: '30s' }),
    observesReplicas: false,
    observeEnv: async (service) => readEnvFile(join(dir, `${service.name}.env`)),
    brokenRedeploy: (service) => ({
      service: { ...service, target: { redeploy: 'echo "about to fail"; exit 3' } },
      change: NO_CHANGE,
    }),
    slowRedeploy: (service) => ({
      service: { ...service, target: { redeploy: 'echo slow; sleep 30' } },
      change: NO_CHANGE,
    }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
})

test('the command sees DECKHAND_ACTION, DECKHAND_SERVICE, DECKHAND_REPLICAS and the change environment', async (t) => {
  const dir = await tempDir(t)
  const record = (action: string) => `cat /proc/$$/environ > "${dir}/${action}.env"`
  const service = commandService({ redeploy: record('redeploy'), scale: record('scale') })
  const driver = new GuardedDriver(new CommandDriver())
  // Built as the worker builds it: the tag reaches the command through changeWithTag.
  const env = { DECKHAND_DEPLOYMENT_ID: 'd-1', SERVICE_TAG: 'development' }
  const change = changeWithTag({ tag: undefined, env }, '1.2.3')

  assert.deepEqual(await driver.redeploy(service, change, makeContext().ctx), {
    state: 'succeeded',
  })
  const redeployEnv = readEnvFile(join(dir, 'redeploy.env'))
  assert.equal(redeployEnv.DECKHAND_ACTION, 'redeploy')
  assert.equal(redeployEnv.DECKHAND_SERVICE, service.name)
  assert.equal(redeployEnv.DECKHAND_IMAGE_TAG, '1.2.3')
  assert.equal(redeployEnv.SERVICE_TAG, 'development')
  assert.equal(redeployEnv.PATH, process.env.PATH, 'the server environment is inherited')

  assert.deepEqual(await driver.scale(service, 4, change, makeContext().ctx), {
    state: 'succeeded',
    replicas: 4,
  })
  const scaleEnv = readEnvFile(join(dir, 'scale.env'))
  assert.equal(scaleEnv.DECKHAND_ACTION, 'scale')
  assert.equal(scaleEnv.DECKHAND_REPLICAS, '4')
  assert.equal(scaleEnv.DECKHAND_DEPLOYMENT_ID, 'd-1')
})

test('the server credentials are not passed to commands', async (t) => {
  const dir = await tempDir(t)
  process.env.DECKHAND_ADMIN_TOKEN = 'admin-token-from-the-environment'
  t.after(() => delete process.env.DECKHAND_ADMIN_TOKEN)
  const service = commandService({ redeploy: `cat /proc/$$/environ > "${dir}/env"` })
  await new CommandDriver().redeploy(service, NO_CHANGE, makeContext().ctx)
  assert.equal(readEnvFile(join(dir, 'env')).DECKHAND_ADMIN_TOKEN, undefined)
})

test('every output line reaches the deployment log as stdout or stderr', async () => {
  const seen: [string, string | undefined][] = []
  const onLog: LogWriter = (line, stream) => seen.push([line, stream])
  const service = commandService({ redeploy: 'echo one; echo two >&2; printf "no newline"' })
  const outcome = await new CommandDriver().redeploy(service, NO_CHANGE, makeContext({ onLog }).ctx)
  assert.deepEqual(outcome, { state: 'succeeded' })
  // stdout and stderr are two pipes, so their relative order is not defined.
  const output = seen.filter(([, stream]) => stream === 'stdout' || stream === 'stderr').sort()
  assert.deepEqual(output, [
    ['no newline', 'stdout'],
    ['one', 'stdout'],
    ['two', 'stderr'],
  ])
})

test('a non-zero exit fails with the exit code and the last lines of output', async () => {
  const script = 'for i in $(seq 1 30); do echo "line $i"; done; echo "boom" >&2; exit 7'
  const outcome = await new CommandDriver().redeploy(
    commandService({ redeploy: script }),
    NO_CHANGE,
    makeContext().ctx,
  )
  assert.equal(outcome.state, 'failed')
  const error = outcome.state === 'failed' ? outcome.error : ''
  assert.match(error, /^the redeploy command exited with code 7; its last output:\n/)
  assert.match(error, /line 30\nboom$/)
  assert.doesNotMatch(error, /line 11\n/, 'only the last 20 lines are quoted')
})

test('a timeout kills the whole process group, children included', async (t) => {
  const dir = await tempDir(t)
  const script = `sleep 600 & echo $! > "${dir}/child.pid"; wait`
  const service = commandService({ redeploy: script, timeout: '300ms' })
  const started = Date.now()
  const outcome = await new CommandDriver().redeploy(service, NO_CHANGE, makeContext().ctx)
  const tookMs = Date.now() - started
  assert.equal(outcome.state, 'failed')
  assert.match(
    outcome.state === 'failed' ? outcome.error : '',
    /did not finish within 300ms and was killed/,
  )
  assert.ok(tookMs < 3000, `returned after ${tookMs} ms`)
  const childPid = Number(readFileSync(join(dir, 'child.pid'), 'utf8'))
  await waitFor(() => !isAlive(childPid), { what: 'the background child to be killed' })
})

test('a command that ignores SIGTERM is killed with SIGKILL after the grace period', async () => {
  const controller = new AbortController()
  const service = commandService({ redeploy: `trap '' TERM; echo ready; sleep 600` })
  const driver = new CommandDriver({ killGraceMs: 200 })
  const { ctx } = makeContext({
    signal: controller.signal,
    onLog: (line) => line === 'ready' && controller.abort(),
  })
  const started = Date.now()
  const outcome = await driver.redeploy(service, NO_CHANGE, ctx)
  assert.equal(outcome.state, 'failed')
  assert.match(outcome.state === 'failed' ? outcome.error : '', /canceled and killed/)
  assert.ok(Date.now() - started < 3000)
})

test('a command that leaves a process holding its output still finishes', async (t) => {
  const dir = await tempDir(t)
  const script = `sleep 600 & echo $! > "${dir}/daemon.pid"; echo started`
  const started = Date.now()
  const outcome = await new CommandDriver().redeploy(
    commandService({ redeploy: script }),
    NO_CHANGE,
    makeContext().ctx,
  )
  const daemon = Number(readFileSync(join(dir, 'daemon.pid'), 'utf8'))
  t.after(() => process.kill(daemon, 'SIGKILL'))
  assert.deepEqual(outcome, { state: 'succeeded' })
  assert.ok(Date.now() - started < 3000)
  assert.ok(isAlive(daemon), 'what the command started on purpose keeps running')
})

test('a scale without a scale command fails and says what to add', async () => {
  const outcome = await new CommandDriver().scale(
    commandService({ redeploy: 'true' }),
    3,
    NO_CHANGE,
    makeContext().ctx,
  )
  assert.equal(outcome.state, 'failed')
  assert.match(
    outcome.state === 'failed' ? outcome.error : '',
    /no target\.scale command.*DECKHAND_REPLICAS/,
  )
})

test('checkTarget names the field that is wrong', () => {
  const driver = new CommandDriver()
  assert.deepEqual(driver.checkTarget({ redeploy: 'true', timeout: '5m', cwd: '/srv' }), [])
  assert.match(driver.checkTarget({}).join('\n'), /target\.redeploy or target\.scale must be set/)
  assert.match(driver.checkTarget({ scale: 'x', timeout: 'soon' }).join('\n'), /target\.timeout/)
  assert.match(driver.checkTarget({ redeploy: 'x', image: 'y' }).join('\n'), /target\.image is not/)
})
