/** showOrWatch: what --watch prints between a start and a SIGINT. */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import type { CliIo } from './output.ts'
import { showOrWatch } from './watch.ts'

/** Runs a watch whose nth fetch answers answers[n]; SIGINT comes after the last one. */
async function watchOutput(
  output: 'table' | 'json',
  answers: Array<{ ready: string; detail: string }>,
): Promise<string[]> {
  const printed: string[] = []
  const io: CliIo = { stdout: (t) => printed.push(t), stderr: () => {}, env: {}, now: Date.now }
  let fetched = 0
  await showOrWatch(
    io,
    { output, watch: true, watchInterval: 100 },
    async () => {
      const answer = answers[fetched++]!
      if (fetched === answers.length) {
        process.emit('SIGINT')
      }
      return answer
    },
    (value) => `READY ${value.ready}\n`,
  )
  return printed
}

test('a watched table is printed again only when the printed table changes', async () => {
  const printed = await watchOutput('table', [
    { ready: '2/2', detail: 'up 1s' },
    { ready: '2/2', detail: 'up 2s' },
    { ready: '3/3', detail: 'up 3s' },
    { ready: '3/3', detail: 'up 4s' },
  ])
  assert.deepEqual(printed, ['READY 2/2\n', '\nREADY 3/3\n'])
})

test('watched JSON is printed again whenever the answer changes, even a field no table shows', async () => {
  const printed = await watchOutput('json', [
    { ready: '2/2', detail: 'up 1s' },
    { ready: '2/2', detail: 'up 1s' },
    { ready: '2/2', detail: 'up 2s' },
  ])
  assert.equal(printed.length, 2)
})
