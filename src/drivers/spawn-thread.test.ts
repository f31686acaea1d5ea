/** Children started from the spawning thread look like ChildProcess to the command driver. */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test } from 'node:test'

import { spawnFromThread, type ThreadChild } from './spawn-thread.ts'

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin' }

async function outputOf(child: ThreadChild): Promise<{ stdout: string; stderr: string }> {
  const read = async (stream: NodeJS.ReadableStream) => {
    let text = ''
    for await (const chunk of stream) {
      text += String(chunk)
    }
    return text
  }
  const [stdout, stderr] = await Promise.all([read(child.stdout), read(child.stderr)])
  return { stdout, stderr }
}

test('output, exit code and pid come back from the spawning thread', async () => {
  const child = spawnFromThread('/bin/sh', ['-c', 'echo out; echo err >&2; echo $$; exit 3'], {
    env: ENV,
  })
  const exited = once(child, 'exit')
  const output = outputOf(child)
  const pid = await child.spawned
  const [code, signal] = await exited
  const { stdout, stderr } = await output
  assert.deepEqual([code, signal], [3, null])
  assert.equal(stdout, `out\n${pid}\n`)
  assert.equal(child.pid, pid)
  assert.equal(stderr, 'err\n')
})

test('a child killed by a signal says which', async () => {
  const child = spawnFromThread('/bin/sh', ['-c', 'kill -TERM $$'], { env: ENV })
  child.stdout.resume()
  child.stderr.resume()
  assert.deepEqual(await once(child, 'exit'), [null, 'SIGTERM'])
})

test('a child that cannot start is an error, and its streams end', async () => {
  const child = spawnFromThread('/bin/sh', ['-c', 'true'], {
    env: ENV,
    cwd: '/nonexistent/deckhand-spawn-thread',
  })
  const [error] = (await once(child, 'error')) as [Error & { code?: string }]
  assert.equal(error.code, 'ENOENT')
  assert.equal(await child.spawned, undefined)
  assert.deepEqual(await outputOf(child), { stdout: '', stderr: '' })
})

test('output written after the shell exits (by what it left running) still arrives', async () => {
  const child = spawnFromThread('/bin/sh', ['-c', '(sleep 0.2; echo late) & echo early'], {
    env: ENV,
  })
  const output = outputOf(child)
  await once(child, 'exit')
  assert.equal((await output).stdout, 'early\nlate\n')
})
