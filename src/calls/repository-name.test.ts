import assert from 'node:assert/strict'
import { test } from 'node:test'

import { repositoryName } from './resolve-call.ts'

test('a repository is one name whether written as owner/name, an HTTPS or SSH URL, or with another case', () => {
  for (const form of [
    'acme/web',
    'Acme/Web',
    'https://github.com/acme/web.git',
    'https://token@github.com/acme/web',
    'git@github.com:acme/web.git',
    'ssh://git@gitea.example.com:2222/acme/web.git',
  ]) {
    assert.equal(repositoryName(form), 'acme/web', form)
  }
  assert.equal(repositoryName('file:///srv/git/web.git'), '/srv/git/web')
  assert.equal(repositoryName('/srv/git/web'), '/srv/git/web')
  assert.notEqual(repositoryName('acme/web'), repositoryName('acme/website'))
})
