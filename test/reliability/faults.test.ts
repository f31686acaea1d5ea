// Promise: faults below Deckhand (a read-only store, crashing replicas) are answered, reported and recovered from.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'

import { skipOrFail } from '../support/required-parts.ts'
import { commandService, startTestServer, type TestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

/**
 * A small ext4 filesystem on a loop device, mounted with errors=remount-ro. A tmpfs cannot be
 * remounted read-only under a running server (the kernel answers EBUSY while SQLite holds its
 * files open for writing), so the filesystem is made to fail the way real disks do: an ext4
 * error turns it read-only under the open files. That is sticky until unmounted and checked,
 * which is also how an operator recovers it.
 */
function mountFailableDisk(
  t: TestContext,
): { dir: string; breakIt: () => void; repair: () => void } | { skip: string } {
  const work = mkdtempSync(join(tmpdir(), 'deckhand-rodisk-'))
  const image = join(work, 'disk.img')
  const dir = join(work, 'data')
  let loop: string | undefined
  try {
    execFileSync('truncate', ['-s', '64M', image])
    execFileSync('mkfs.ext4', ['-q', '-F', image], { stdio: 'pipe' })
    loop = execFileSync('losetup', ['--find', '--show', image], { stdio: 'pipe' }).toString().trim()
    execFileSync('mkdir', ['-p', dir])
    execFileSync('mount', ['-o', 'errors=remount-ro', loop, dir], { stdio: 'pipe' })
  } catch (error) {
    if (loop) {
      execFileSync('losetup', ['-d', loop], { stdio: 'ignore' })
    }
    rmSync(work, { recursive: true, force: true })
    return {
      skip: `cannot mount an ext4 loop device (needs root): ${(error as Error).message.split('\n')[0]}`,
    }
  }
  const device = loop
  let mounted = true
  t.after(() => {
    if (mounted) {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' })
    }
    execFileSync('losetup', ['-d', device], { stdio: 'ignore' })
    rmSync(work, { recursive: true, force: true })
  })
  return {
    dir,
    breakIt: () =>
      writeFileSync(
        `/sys/fs/ext4/${basename(device)}/trigger_fs_error`,
        'deckhand reliability test',
      ),
    repair: () => {
      execFileSync('umount', [dir])
      mounted = false
      try {
        execFileSync('e2fsck', ['-f', '-y', device], { stdio: 'pipe' })
      } catch {
        // e2fsck exits 1 when it fixed something, which after a forced error it always does.
      }
      execFileSync('mount', ['-o', 'errors=remount-ro', device, dir], { stdio: 'pipe' })
      mounted = true
    },
  }
}

describe('promise: a store that cannot write answers 503, keeps nothing half-written, and recovers', () => {
  it('with the store filesystem gone read-only, calls and admin changes get 503 and nothing is recorded; repaired, it resumes', async (t) => {
    const disk = mountFailableDisk(t)
    if ('skip' in disk) {
      skipOrFail(t, 'mount', disk.skip)
      return
    }
    const first = await startTestServer(undefined, { dataDir: disk.dir })
    await first.api('POST', '/api/v1/services', commandService('web', 'true'))
    const { url } = (
      await first.api('POST', '/api/v1/services/web/triggers', { action: 'redeploy', name: 'ci' })
    ).body
    const accepted = await first.hook(url, { headers: { 'idempotency-key': 'before' } })
    assert.equal(accepted.status, 202)
    await waitFor(
      async () =>
        (await first.api('GET', `/api/v1/deployments/${accepted.body.deployments[0].id}`)).body
          .state === 'succeeded',
    )

    disk.breakIt()
    for (let i = 0; i < 5; i += 1) {
      const answer = await first.hook(url, {
        body: `{"n":${i}}`,
        headers: { 'idempotency-key': `readonly-${i}` },
      })
      assert.equal(answer.status, 503, `call ${i}: ${JSON.stringify(answer.body)}`)
      assert.match(answer.body.error, /retry/)
    }
    const created = await first.api('POST', '/api/v1/services', commandService('other'))
    assert.equal(created.status, 503, `an admin change: ${JSON.stringify(created.body)}`)
    assert.equal(
      (await fetch(`${first.url}/readyz`)).status,
      503,
      'not ready while the store cannot write',
    )
    await first.close({ keepServices: true }).catch(() => {
      // Closing marks running deployments interrupted, which cannot be written either.
    })

    disk.repair()
    const second = await startTestServer(t, { dataDir: disk.dir })
    const calls = (await second.api('GET', '/api/v1/calls?limit=1000')).body.items
    assert.deepEqual(
      calls.map((c: { deliveryId: string }) => c.deliveryId),
      ['before'],
      'no call of the read-only period was kept',
    )
    assert.deepEqual(
      (await second.api('GET', '/api/v1/services')).body.items.map((s: { name: string }) => s.name),
      ['web'],
    )
    // The restarted server listens on another port; the trigger's path is what stays.
    const resumed = await second.hook(`${second.url}${new URL(url).pathname}`, {
      headers: { 'idempotency-key': 'after' },
    })
    assert.equal(resumed.status, 202)
    await waitFor(
      async () =>
        (await second.api('GET', `/api/v1/deployments/${resumed.body.deployments[0].id}`)).body
          .state === 'succeeded',
    )
    // Closed before the disk is unmounted by the cleanup above.
    await second.close()
  })
})

describe('promise: a crashing replica is restarted with backoff and reported, never restarted in a hot loop', () => {
  /** Every "restarting in N ms" the process driver logged for `service`. */
  const restartDelays = (server: TestServer, service: string): number[] =>
    server.logs
      .filter((line) => line.includes(`"service":"${service}"`))
      .map((line) => /restarting in (\d+) ms/.exec(line)?.[1])
      .filter((ms): ms is string => ms !== undefined)
      .map(Number)

  it('a replica that crashes once is restarted, and the crash shows in the service status', async (t) => {
    const server = await startTestServer(t)
    const cwd = mkdtempSync(join(tmpdir(), 'deckhand-crash-once-'))
    t.after(() => rmSync(cwd, { recursive: true, force: true }))
    // Healthy for its first start (a deployment of its own), then it crashes once.
    const command =
      'if [ -f crashed-once ]; then exec sleep 300; else touch crashed-once; sleep 1.5; exit 3; fi'
    const created = await server.api('POST', '/api/v1/services', {
      name: 'once',
      driver: 'process',
      target: { command, cwd, health: { runningFor: '1s' } },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const replica = await waitFor(
      async () => {
        const items = (await server.api('GET', '/api/v1/services/once')).body.status?.items ?? []
        return items.find(
          (i: { state: string; restarts: number }) => i.state === 'running' && i.restarts === 1,
        )
      },
      { timeoutMs: 20_000, what: 'the replica running again after one restart' },
    )
    assert.match(replica.detail, /1 restarts, last exited with code 3/)
    assert.deepEqual(restartDelays(server, 'once'), [1000])
  })

  it('a replica that keeps crashing is reported crashed, with its restarts spaced further and further apart', async (t) => {
    const server = await startTestServer(t)
    const cwd = mkdtempSync(join(tmpdir(), 'deckhand-crash-loop-'))
    t.after(() => rmSync(cwd, { recursive: true, force: true }))
    // Healthy for its first start (a deployment of its own), then every restart dies at once.
    const command =
      'if [ -f started ]; then echo dying; exit 7; fi; touch started; sleep 1.5; exit 7'
    const created = await server.api('POST', '/api/v1/services', {
      name: 'loop',
      driver: 'process',
      target: { command, cwd },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const crashed = await waitFor(
      async () => {
        const items = (await server.api('GET', '/api/v1/services/loop')).body.status?.items ?? []
        return items.find((i: { state: string }) => i.state === 'crashed')
      },
      { timeoutMs: 30_000, what: 'the replica reported crashed' },
    )
    assert.ok(crashed.restarts >= 3, `restarts counted: ${JSON.stringify(crashed)}`)
    assert.match(crashed.detail, /exited with code 7/)
    // Not a hot loop: each delay doubles the one before, from 1 s.
    const delays = restartDelays(server, 'loop')
    assert.ok(delays.length >= 3, `restarts logged: ${delays}`)
    assert.deepEqual(
      delays,
      delays.map((_, i) => 1000 * 2 ** i),
    )
  })
})
