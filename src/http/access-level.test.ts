import assert from 'node:assert/strict'
import { test } from 'node:test'

import { accessLevel } from './access-level.ts'

test('access lines: API changes, failures and unrecorded hook refusals at info; polling, probes and recorded calls at debug', () => {
  const cases: [string, string, number, 'debug' | 'info'][] = [
    ['GET', '/api/v1/services', 200, 'debug'],
    ['GET', '/healthz', 200, 'debug'],
    ['GET', '/readyz', 503, 'info'],
    ['GET', '/metrics', 200, 'debug'],
    ['GET', '/api/v1/services/web', 404, 'info'],
    ['POST', '/api/v1/services', 201, 'info'],
    ['DELETE', '/api/v1/triggers/t', 204, 'info'],
    ['POST', '/hooks/abc', 202, 'debug'],
    ['POST', '/hooks/abc', 401, 'debug'],
    ['POST', '/hooks/abc', 400, 'debug'],
    ['POST', '/hooks/abc', 404, 'info'],
    ['POST', '/hooks/abc', 429, 'info'],
    ['POST', '/hooks/abc', 413, 'info'],
    ['POST', '/hooks/abc', 503, 'info'],
  ]
  for (const [method, url, status, level] of cases) {
    assert.equal(accessLevel(method, url, status), level, `${method} ${url} ${status}`)
  }
})

test('a hook 503 with Retry-After (a call shed under overload) is debug; the API keeps its 503s', () => {
  assert.equal(accessLevel('POST', '/hooks/abc', 503, true), 'debug')
  assert.equal(accessLevel('GET', '/readyz', 503, true), 'info')
})
