/** The store matrix of the API suites: reruns them, unchanged, on PostgreSQL in a child process. */
import { spawn } from 'node:child_process'
import { basename, join } from 'node:path'
import { createInterface } from 'node:readline'
import { run, test } from 'node:test'

// The black-box API suites whose answers depend on the store: the trigger endpoint (accept,
// coalesce, record), the deployment verbs (queue, claim, cancel, rollback, logs) and a restart
// that adopts process replicas from what the store remembers. They already run on SQLite, the
// default of startTestServer, as ordinary files of `npm test`.
const SUITES = [
  'hooks-endpoint.test.ts',
  'deployments.test.ts',
  'process-service.test.ts',
  'approvals.test.ts',
].map((file) => join(import.meta.dirname, file))

interface Result {
  name: string
  file: string
  skip: string | boolean | undefined
  /** The failure's stack, with its causes'; null when the test passed. */
  error: string | null
}

// node:test refuses to nest run() inside a test file, and its children inherit the runner's
// execArgv, so this same file, started plainly with DECKHAND_TEST_MATRIX_RUN, is the runner:
// it runs the suites and writes each top-level result to stdout as one JSON line.
if (process.env.DECKHAND_TEST_MATRIX_RUN) {
  const text = (error: unknown): string =>
    error instanceof Error
      ? [error.stack ?? error.message, error.cause ? text(error.cause) : ''].join('\n')
      : String(error)
  const write = (value: object) => process.stdout.write(`${JSON.stringify(value)}\n`)
  const files = JSON.parse(process.env.DECKHAND_TEST_MATRIX_RUN) as string[]
  for await (const { type, data } of run({ files, concurrency: 1, timeout: 300_000 })) {
    if ((type === 'test:pass' || type === 'test:fail') && data.nesting === 0) {
      const error = type === 'test:fail' ? text(data.details.error) : null
      write({ name: data.name, file: data.file ?? '?', skip: data.skip, error })
    } else if (type === 'test:stdout' || type === 'test:stderr') {
      write({ output: data.message })
    }
  }
} else {
  // Imported here only: their `after` hooks would start a test harness in the runner.
  const { postgresServerUrl } = await import('../support/postgres-cluster.ts')
  const { testStores } = await import('../support/test-stores.ts')
  const postgres = (await testStores()).find((backend) => backend.name === 'postgres')
  const skip = postgres ? postgres.skip : 'PostgreSQL is named out by DECKHAND_TEST_STORES'
  if (!postgres) {
    process.stderr.write(`\nWARNING: skipping the API suites on postgres. ${skip}\n\n`)
  }

  test('the API suites pass on PostgreSQL', { skip }, async (t) => {
    // The child shares this process's cluster: one initdb per run, a fresh database per server.
    const url = await postgresServerUrl()
    const { NODE_TEST_CONTEXT: _ownRunner, ...env } = process.env
    const child = spawn(process.execPath, [import.meta.filename], {
      env: {
        ...env,
        DECKHAND_TEST_MATRIX_RUN: JSON.stringify(SUITES),
        DECKHAND_TEST_STORE: 'postgres',
        DECKHAND_TEST_POSTGRES_URL: url,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    const results: Result[] = []
    const output: string[] = []
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()))
    for await (const line of createInterface({ input: child.stdout })) {
      let event: { output: string } | Result
      try {
        event = JSON.parse(line) as { output: string } | Result
      } catch {
        event = { output: `${line}\n` }
      }
      if ('output' in event) {
        output.push(event.output)
      } else {
        results.push(event)
      }
    }
    const code = await exited
    if (results.length === 0) {
      throw new Error(`the suites reported no tests (runner exit ${code}):\n${output.join('')}`)
    }
    // One subtest per test of the child, so a failure on PostgreSQL names the test that failed.
    for (const result of results) {
      await t.test(`${basename(result.file)}: ${result.name}`, { skip: result.skip }, () => {
        if (result.error !== null) {
          throw new Error(`${result.error}\n--- output of the suites ---\n${output.join('')}`)
        }
      })
    }
  })
}
