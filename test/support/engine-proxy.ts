/** A unix-socket proxy in front of a Docker engine that a test can stop and start again. */
import { mkdtemp, rm } from 'node:fs/promises'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'

export interface EngineProxy {
  /** The proxy's socket path; give `unix://<socket>` to the server as DOCKER_HOST. */
  socket: string
  /** Drops every open connection and removes the socket, as a dockerd that stops does. */
  stop(): Promise<void>
  /** Listens again: the engine is back, without restarting the test's private dockerd. */
  resume(): Promise<void>
}

/**
 * Listens on a new socket and pipes each connection to `engineSocket`. While stopped, new
 * connects fail with ENOENT and open ones are reset, which is what a client sees of an engine
 * going away; the engine itself keeps running, so the test can still look at its containers.
 */
export async function engineProxy(t: TestContext, engineSocket: string): Promise<EngineProxy> {
  const dir = await mkdtemp(join(tmpdir(), 'dh-proxy-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const socket = join(dir, 'docker.sock')
  const open = new Set<Socket>()
  let proxy: Server | undefined
  const resume = () =>
    new Promise<void>((resolve, reject) => {
      proxy = createServer((client) => {
        const upstream = connect(engineSocket)
        for (const end of [client, upstream]) {
          open.add(end)
          end.on('close', () => open.delete(end))
          end.on('error', () => [client, upstream].forEach((side) => side.destroy()))
        }
        client.pipe(upstream).pipe(client)
      })
      proxy.once('error', reject)
      proxy.listen(socket, resolve)
    })
  const stop = () =>
    new Promise<void>((resolve) => {
      proxy?.close(() => resolve())
      open.forEach((end) => end.destroy())
    })
  await resume()
  t.after(() => (proxy?.listening ? stop() : undefined))
  return { socket, stop, resume }
}
