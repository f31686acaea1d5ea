/** Runs `deckhand serve` as a real child process, for kill -9 and restart tests. */
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'

import { waitFor } from './wait-for.ts'

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'main.ts')

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

export interface SpawnedServer {
  url: string
  child: ChildProcess
  output: () => string
  /** Resolves when the process has exited. */
  exited: Promise<number | null>
}

export async function spawnServer(
  env: Record<string, string>,
  port?: number,
): Promise<SpawnedServer> {
  const listenPort = port ?? (await freePort())
  const child = spawn(process.execPath, [MAIN, 'serve'], {
    env: { ...process.env, DECKHAND_LISTEN: `127.0.0.1:${listenPort}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  )
  const url = `http://127.0.0.1:${listenPort}`
  await waitFor(
    async () => {
      if (child.exitCode !== null) {
        throw new Error(`deckhand serve exited with ${child.exitCode}: ${output}`)
      }
      return (await fetch(`${url}/healthz`).catch(() => undefined))?.ok
    },
    { timeoutMs: 20_000, what: 'deckhand serve to answer /healthz' },
  )
  return { url, child, output: () => output, exited }
}
