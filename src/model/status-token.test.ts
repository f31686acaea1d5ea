// Which variables a status block may read its token from, and which of the environment are read.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { STATUS_HOSTS } from './index.ts'
import { isTokenEnvOf, readStatusTokens } from './status-token.ts'

test("a block names only its own host's token family", () => {
  const family = ['DECKHAND_GITLAB_TOKEN', 'DECKHAND_GITLAB_TOKEN_WEB', 'DECKHAND_GITLAB_TOKEN_2']
  for (const name of family) {
    assert.equal(isTokenEnvOf('gitlab', name), true, name)
  }
  for (const name of [
    'DECKHAND_ADMIN_TOKEN',
    'DECKHAND_DATABASE_URL',
    'AWS_SECRET_ACCESS_KEY',
    'DECKHAND_GITEA_TOKEN',
    'DECKHAND_GITLAB_TOKENS',
    'DECKHAND_GITLAB_TOKEN_',
    'DECKHAND_GITLAB_TOKEN__X',
    'DECKHAND_GITLAB_TOKEN_web',
    `DECKHAND_GITLAB_TOKEN_${'X'.repeat(100)}`,
  ]) {
    assert.equal(isTokenEnvOf('gitlab', name), false, name)
  }
})

test('only the token family is read from the environment, trimmed; empty values are absent', () => {
  const tokens = readStatusTokens(
    {
      DECKHAND_GITLAB_TOKEN: 'glpat-one\r',
      DECKHAND_GITEA_TOKEN_SHOP: ' gitea-two ',
      DECKHAND_BITBUCKET_TOKEN: '',
      DECKHAND_ADMIN_TOKEN: 'admin-token-that-must-stay-out',
      PATH: '/usr/bin',
    },
    STATUS_HOSTS,
  )
  assert.deepEqual(
    [...tokens],
    [
      ['DECKHAND_GITLAB_TOKEN', 'glpat-one'],
      ['DECKHAND_GITEA_TOKEN_SHOP', 'gitea-two'],
    ],
  )
})
