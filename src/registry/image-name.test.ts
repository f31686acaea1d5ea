/** Image references split as Docker reads them. */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { parseImageName, withoutDigest } from './image-name.ts'

const DIGEST = `sha256:${'c'.repeat(64)}`

test('a reference splits into host, repository, tag and digest as Docker reads it', () => {
  assert.deepEqual(parseImageName(`127.0.0.1:5000/acme/web:2@${DIGEST}`), {
    host: '127.0.0.1:5000',
    repository: 'acme/web',
    tag: '2',
    digest: DIGEST,
  })
  assert.deepEqual(parseImageName('nginx'), {
    host: 'docker.io',
    repository: 'library/nginx',
    tag: null,
    digest: null,
  })
  assert.deepEqual(parseImageName('acme/web:latest'), {
    host: 'docker.io',
    repository: 'acme/web',
    tag: 'latest',
    digest: null,
  })
  assert.equal(parseImageName('localhost/web:1')?.host, 'localhost')
  assert.equal(parseImageName('index.docker.io/acme/web')?.host, 'docker.io')
  assert.equal(parseImageName('ghcr.io/acme/web')?.repository, 'acme/web')
})

test('what is not a reference is null, an image ID included', () => {
  assert.equal(parseImageName(`sha256:${'d'.repeat(64)}`), null)
  assert.equal(parseImageName('Acme/Web'), null)
  assert.equal(parseImageName('acme/web@sha256:short'), null)
  assert.equal(parseImageName(`acme/${'a'.repeat(600)}`), null)
  assert.equal(parseImageName('acme//web'), null)
})

test('withoutDigest keeps the tag a pinned reference was asked by', () => {
  assert.equal(withoutDigest(`registry:5000/acme/web:2@${DIGEST}`), 'registry:5000/acme/web:2')
  assert.equal(withoutDigest('acme/web:2'), 'acme/web:2')
})
