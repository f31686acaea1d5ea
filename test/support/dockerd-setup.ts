/** Setup the docker and swarm suites share: the app CMD, images built once, names, a server. */
import type { TestContext } from 'node:test'
import { before } from 'node:test'

import type { DockerdHandle, PrivateDockerd } from './private-dockerd.ts'
import { BASE_IMAGE } from './private-dockerd.ts'
import { startTestServer, type TestServer } from './start-server.ts'

/** A CMD that prints its APP_VERSION, then idles until SIGTERM and exits 0 at once. */
export const APP = `CMD ["sh", "-c", "echo app $APP_VERSION starting; trap 'exit 0' TERM; sleep 100000 & wait"]`

/** Builds each image (name → the Dockerfile after `FROM BASE_IMAGE`) before the file's tests. */
export function buildImagesBefore(handle: DockerdHandle, images: Record<string, string>): void {
  before(async () => {
    if (handle.engine) {
      await Promise.all(
        Object.entries(images).map(([name, body]) =>
          handle.engine!.buildImage(name, `FROM ${BASE_IMAGE}\n${body}\n`),
        ),
      )
    }
  })
}

/** Makes names unique to this run and file: `<prefix>-<runId>-<n>`. */
export function uniqueNames(handle: DockerdHandle): (prefix: string) => string {
  let serial = 0
  return (prefix) => `${prefix}-${handle.engine?.runId ?? 'x'}-${++serial}`
}

/** A server whose docker and swarm drivers use `engine`; the engine's objects go after the test. */
export async function serverOn(t: TestContext, engine: PrivateDockerd): Promise<TestServer> {
  t.after(() => engine.cleanup())
  return startTestServer(t, {
    env: {
      DOCKER_HOST: `unix://${engine.socketPath}`,
      DECKHAND_DRIVERS: 'process,command,docker,swarm',
    },
  })
}
