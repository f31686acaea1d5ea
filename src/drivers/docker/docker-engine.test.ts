import assert from 'node:assert/strict'
import { test } from 'node:test'

import { DockerEngine } from './docker-engine.ts'

const engine = new DockerEngine({ socketPath: '/run/dh-test/docker.sock' })

function socketError(code: string): Error {
  return Object.assign(new Error(`write ${code}`), { code, syscall: 'write' })
}

test('an engine that goes away under a request is named unreachable, whatever the socket error', () => {
  // EPIPE is what a request body written to a stopping engine fails with (seen in CI).
  for (const code of ['ENOENT', 'ECONNREFUSED', 'EACCES', 'ECONNRESET', 'EPIPE']) {
    assert.match(
      engine.failureMessage(socketError(code)),
      new RegExp(
        `the Docker engine at unix:///run/dh-test/docker.sock cannot be reached \\(${code}\\)`,
      ),
    )
  }
})

test('an engine that answers with an error is named as refusing the request', () => {
  const refused = Object.assign(
    new Error('(HTTP code 404) no such container - No such container: web'),
    { statusCode: 404 },
  )
  assert.match(engine.failureMessage(refused), /refused a request/)
  assert.equal(engine.unreachable(refused), null)
})
