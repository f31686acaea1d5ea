/**
 * A service's `deploy.settle` against a private dockerd: how long a new container without a
 * HEALTHCHECK must keep running before it counts as healthy, instead of the driver's default.
 */
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import { test } from 'node:test'

import { APP, buildImagesBefore, uniqueNames } from '../../../test/support/dockerd-setup.ts'
import type { PrivateDockerd } from '../../../test/support/private-dockerd.ts'
import { privateDockerd } from '../../../test/support/private-dockerd.ts'
import type { Service } from '../../model/index.ts'
import { makeContext, makeService } from '../driver-contract.ts'
import { GuardedDriver } from '../guarded-driver.ts'
import { DockerDriver } from './docker-driver.ts'

const handle = await privateDockerd()
const IMAGES: Record<string, string> = {
  'dh-settle:1': `ENV APP_VERSION=1\n${APP}`,
  'dh-settle:2': `ENV APP_VERSION=2\n${APP}`,
  // Runs for 2 s, then exits 3: past a short settle, within a long one.
  'dh-settle:brief': `CMD ["sh", "-c", "echo brief starting; sleep 2; exit 3"]`,
}
buildImagesBefore(handle, IMAGES)
const unique = uniqueNames(handle)

function service(name: string, deploy: Partial<Service['deploy']>): Service {
  const base = makeService({ name: unique('svc'), driver: 'docker', target: { container: name } })
  return { ...base, image: 'dh-settle', deploy: { ...base.deploy, ...deploy } }
}

async function running(t: TestContext, engine: PrivateDockerd): Promise<string> {
  t.after(() => engine.cleanup())
  const name = unique('web')
  await engine.run(['--name', name, '--network', 'none', 'dh-settle:1'])
  return name
}

test('deploy.settle 0s counts a running container at once, whatever the driver default', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  const name = await running(t, engine)
  // A default no redeploy could wait out within its health timeout: only the service's 0s passes.
  // Drivers throw their failures; the guard words them, as the worker's does.
  const driver = new GuardedDriver(
    new DockerDriver({ socketPath: engine.socketPath, settleMs: 600_000 }),
  )
  const { ctx, lines } = makeContext()

  const outcome = await driver.redeploy(
    service(name, { settleMs: 0, healthTimeoutMs: 10_000 }),
    { tag: '2', env: {} },
    ctx,
  )

  assert.deepEqual(outcome, { state: 'succeeded', replicas: 1, tag: '2' }, lines.join('\n'))
  const settled = /healthy after \d+ ms \(it kept running for 0 ms\)/
  assert.ok(
    lines.some((line) => settled.test(line)),
    lines.join('\n'),
  )
})

test('a container that exits within deploy.settle fails the redeploy, and the old one stays', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  const name = await running(t, engine)
  // With the driver's short default the brief container would pass; the service asks for more.
  const driver = new GuardedDriver(
    new DockerDriver({ socketPath: engine.socketPath, settleMs: 300 }),
  )
  const { ctx, lines } = makeContext()

  const outcome = await driver.redeploy(
    service(name, { settleMs: 30_000, healthTimeoutMs: 60_000 }),
    { tag: 'brief', env: {} },
    ctx,
  )

  assert.equal(outcome.state, 'failed', lines.join('\n'))
  assert.match(outcome.state === 'failed' ? outcome.error : '', /exited with code 3/)
  const after = JSON.parse(await engine.docker(['inspect', name])) as {
    Config: { Image: string }
  }[]
  assert.equal(after[0]!.Config.Image, 'dh-settle:1', 'the old container is back under its name')
})
