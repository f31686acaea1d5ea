// What a failed redeploy records as tried: redacted when written, whatever is learned later.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { knownSecrets } from '../model/secret-redactor.ts'
import { triedColumn } from './tried-change.ts'

test('the tried column is redacted when it is recorded, in every string of the target', () => {
  const secret = 'tried-change-secret-0123456789'
  knownSecrets.remember(secret)
  const column = triedColumn({
    target: { redeploy: `deploy --token ${secret}`, env: { [secret]: [secret, 1] } },
    tag: 'v2',
  })
  assert.deepEqual(JSON.parse(column), {
    target: { redeploy: 'deploy --token [redacted]', env: { '[redacted]': ['[redacted]', 1] } },
    tag: 'v2',
  })
})
