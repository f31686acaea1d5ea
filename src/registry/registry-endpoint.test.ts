/** Which host a reference's registry is asked at, as which repository, and its config keys. */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { credentialEntry, registryEndpoint } from './registry-endpoint.ts'

const HUB_KEYS = [
  'https://index.docker.io/v1/',
  'index.docker.io',
  'docker.io',
  'registry-1.docker.io',
]

test('every spelling of a Docker Hub image is asked at registry-1.docker.io, official ones in library/', () => {
  const table: [string, string, string][] = [
    ['nginx', 'registry-1.docker.io', 'library/nginx'],
    ['nginx:1.27', 'registry-1.docker.io', 'library/nginx'],
    ['library/nginx', 'registry-1.docker.io', 'library/nginx'],
    ['docker.io/nginx', 'registry-1.docker.io', 'library/nginx'],
    ['docker.io/library/nginx:latest', 'registry-1.docker.io', 'library/nginx'],
    ['index.docker.io/library/nginx', 'registry-1.docker.io', 'library/nginx'],
    ['registry-1.docker.io/library/nginx', 'registry-1.docker.io', 'library/nginx'],
    ['registry.hub.docker.com/library/nginx', 'registry-1.docker.io', 'library/nginx'],
    ['Docker.IO/acme/web', 'registry-1.docker.io', 'acme/web'],
    ['acme/web', 'registry-1.docker.io', 'acme/web'],
    ['docker.io/acme/web:2', 'registry-1.docker.io', 'acme/web'],
    ['acme/team/web', 'registry-1.docker.io', 'acme/team/web'],
  ]
  for (const [reference, apiHost, repository] of table) {
    assert.deepEqual(
      registryEndpoint(reference),
      { registry: 'docker.io', apiHost, repository, credentialKeys: HUB_KEYS },
      reference,
    )
  }
})

test('another registry is asked at its own host, its repository as written', () => {
  const table: [string, string, string, string[]][] = [
    [
      '127.0.0.1:5000/acme/web:2',
      '127.0.0.1:5000',
      'acme/web',
      ['127.0.0.1:5000', 'https://127.0.0.1:5000', 'http://127.0.0.1:5000'],
    ],
    ['localhost/web', 'localhost', 'web', ['localhost', 'https://localhost', 'http://localhost']],
    [
      'Registry.Acme.Example/team/web',
      'registry.acme.example',
      'team/web',
      ['registry.acme.example', 'https://registry.acme.example', 'http://registry.acme.example'],
    ],
    // One path segment on another registry is not an official image: no library/ there.
    ['ghcr.io/nginx', 'ghcr.io', 'nginx', ['ghcr.io', 'https://ghcr.io', 'http://ghcr.io']],
  ]
  for (const [reference, host, repository, credentialKeys] of table) {
    assert.deepEqual(
      registryEndpoint(reference),
      { registry: host, apiHost: host, repository, credentialKeys },
      reference,
    )
  }
  assert.equal(registryEndpoint(`sha256:${'a'.repeat(64)}`), null)
  assert.equal(registryEndpoint('Acme/Web'), null)
})

test('credentials are taken under the first key that names the registry, exact names before others', () => {
  const table: [string, string[], string | undefined][] = [
    // docker login's own key wins over hand-written ones, wherever it is in the file.
    [
      'docker.io',
      ['registry-1.docker.io', 'docker.io', 'https://index.docker.io/v1/'],
      'https://index.docker.io/v1/',
    ],
    ['docker.io', ['registry-1.docker.io', 'docker.io', 'index.docker.io'], 'index.docker.io'],
    ['docker.io', ['registry-1.docker.io', 'docker.io'], 'docker.io'],
    ['docker.io', ['registry-1.docker.io'], 'registry-1.docker.io'],
    // Other spellings of Docker Hub count after the known ones, in the file's order.
    [
      'docker.io',
      ['https://registry-1.docker.io/v2/', 'https://index.docker.io/v1'],
      'https://registry-1.docker.io/v2/',
    ],
    ['docker.io', ['ghcr.io', '127.0.0.1:5000'], undefined],
    [
      'registry.example:5000',
      ['https://registry.example:5000/v2/', 'registry.example:5000'],
      'registry.example:5000',
    ],
    [
      'registry.example:5000',
      ['http://registry.example:5000', 'https://registry.example:5000'],
      'https://registry.example:5000',
    ],
    [
      'registry.example:5000',
      ['https://REGISTRY.example:5000/v2/'],
      'https://REGISTRY.example:5000/v2/',
    ],
    // Another port is another registry, as Docker has it.
    ['registry.example:5000', ['registry.example', 'registry.example:443'], undefined],
    ['registry.example:5000', ['docker.io'], undefined],
  ]
  for (const [registry, keys, expected] of table) {
    const entries = new Map(keys.map((key) => [key, `value of ${key}`]))
    const found = credentialEntry(entries, registry)
    assert.equal(found?.key, expected, `${registry} among ${keys.join(', ')}`)
    assert.equal(found?.value, expected === undefined ? undefined : `value of ${expected}`)
  }
})
