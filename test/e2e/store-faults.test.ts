/**
 * The store's disk fills up: calls get 503 and nothing half-written remains; service resumes
 * when space comes back. Runs on a small tmpfs, which needs root to mount.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { skipOrFail } from '../support/required-parts.ts'
import { commandService, startTestServer } from '../support/start-server.ts'

function mountSmallDisk(): { dir: string; unmount: () => void } | { skip: string } {
  const dir = mkdtempSync(join(tmpdir(), 'deckhand-fulldisk-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'pipe' })
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    return {
      skip: `cannot mount a tmpfs to fill (needs root): ${(error as Error).message.split('\n')[0]}`,
    }
  }
  return {
    dir,
    unmount: () => {
      execFileSync('umount', ['-l', dir])
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Fills the filesystem to the last byte; returns the filler's path. */
function fill(dir: string): string {
  const filler = join(dir, 'filler')
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { stdio: 'pipe' })
  } catch {
    // dd ends with "No space left on device": that is the point.
  }
  for (let i = 0; ; i += 1) {
    try {
      writeFileSync(join(dir, `crumb-${i}`), Buffer.alloc(512))
    } catch {
      return filler
    }
  }
}

test('with the store disk full, calls get 503 and change nothing; with space back they are accepted', async (t) => {
  const disk = mountSmallDisk()
  if ('skip' in disk) {
    skipOrFail(t, 'mount', disk.skip)
    return
  }
  t.after(disk.unmount)
  const server = await startTestServer(t, { dataDir: disk.dir })
  await server.api('POST', '/api/v1/services', commandService('web'))
  const { url } = (
    await server.api('POST', '/api/v1/services/web/triggers', { action: 'redeploy' })
  ).body
  const before = (await server.api('GET', '/api/v1/calls')).body.items.length

  const filler = fill(disk.dir)
  const statuses = []
  for (let i = 0; i < 5; i += 1) {
    const answer = await server.hook(url, { body: 'x'.repeat(4096) })
    statuses.push(answer.status)
    if (answer.status === 503) {
      assert.match(answer.body.error, /retry/)
    }
  }
  assert.ok(
    statuses.every((s) => s === 503),
    `every call answered 503: ${statuses}`,
  )

  rmSync(filler)
  const resumed = await server.hook(url)
  assert.equal(resumed.status, 202)
  const calls = (await server.api('GET', '/api/v1/calls')).body.items
  assert.equal(calls.length, before + 1, 'no call of the full-disk period was recorded')
  const deployments = (await server.api('GET', '/api/v1/deployments')).body.items
  assert.deepEqual(
    deployments.map((d: { id: string }) => d.id),
    [resumed.body.deployments[0].id],
  )
})
