// Image references as a table: one reading for the pipeline and for every driver.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { isSameRepository, repositoryOf, repositoryPath, withTag } from './image-reference.ts'

test('repositoryOf drops the tag and digest and keeps a registry port', () => {
  const cases: [string, string][] = [
    ['nginx', 'nginx'],
    ['nginx:1.27', 'nginx'],
    ['registry:5000/acme/web', 'registry:5000/acme/web'],
    ['registry:5000/acme/web:2', 'registry:5000/acme/web'],
    ['registry:5000/acme/web:2@sha256:abc', 'registry:5000/acme/web'],
    ['acme/web@sha256:abc', 'acme/web'],
    ['localhost:5000/web', 'localhost:5000/web'],
  ]
  for (const [reference, expected] of cases) {
    assert.equal(repositoryOf(reference), expected, reference)
  }
})

test('repositoryPath is the path a sender names: no host, no library/, lower-case', () => {
  const cases: [string, string][] = [
    ['nginx', 'nginx'],
    ['docker.io/library/nginx:1', 'nginx'],
    ['library/nginx', 'nginx'],
    ['ghcr.io/acme/web:1', 'acme/web'],
    ['Registry.Example.com:5000/Acme/Web:V1', 'acme/web'],
    ['localhost/web', 'web'],
    ['acme/web@sha256:abc', 'acme/web'],
    // A first segment with neither dot, port nor localhost is a path segment, not a host.
    ['acme/team/web', 'acme/team/web'],
  ]
  for (const [reference, expected] of cases) {
    assert.equal(repositoryPath(reference), expected, reference)
  }
})

test('isSameRepository knows Docker Hub under every name and no other registry as it', () => {
  const same: [string, string][] = [
    ['nginx', 'docker.io/library/nginx:1'],
    ['acme/web:1', 'index.docker.io/acme/web:2'],
    ['registry-1.docker.io/acme/web', 'acme/web@sha256:abc'],
    ['ghcr.io/acme/web:1', 'GHCR.io/acme/web:2'],
  ]
  const different: [string, string][] = [
    ['ghcr.io/acme/web', 'acme/web'],
    ['ghcr.io/library/web', 'ghcr.io/web'],
    ['registry:5000/acme/web', 'registry:5001/acme/web'],
    ['acme/web', 'acme/api'],
  ]
  for (const [a, b] of same) {
    assert.equal(isSameRepository(a, b), true, `${a} = ${b}`)
  }
  for (const [a, b] of different) {
    assert.equal(isSameRepository(a, b), false, `${a} ≠ ${b}`)
  }
})

test('withTag keeps the running spelling of the repository, else takes the service one', () => {
  assert.equal(withTag('acme/web:1', null, '2'), 'acme/web:2')
  const pinned = 'registry:5000/acme/web:1@sha256:abc'
  assert.equal(withTag(pinned, null, '2'), 'registry:5000/acme/web:2')
  assert.equal(withTag('acme/web:1', 'docker.io/acme/web', '2'), 'acme/web:2')
  assert.equal(withTag('acme/old:1', 'ghcr.io/acme/web', '2'), 'ghcr.io/acme/web:2')
  // A service image that names a tag of its own does not make a reference with two.
  assert.equal(withTag('acme/old:1', 'ghcr.io/acme/web:1', '2'), 'ghcr.io/acme/web:2')
})

test('a hostile reference of colons and at signs is read in linear time', () => {
  const hostile = `${'a:'.repeat(50_000)}@${'@:'.repeat(50_000)}`
  const started = performance.now()
  repositoryPath(hostile)
  isSameRepository(hostile, hostile)
  assert.ok(performance.now() - started < 500)
})
