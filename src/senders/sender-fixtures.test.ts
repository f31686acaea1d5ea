// Replays every captured fixture: recognised as its sender, verified, and parsed field by field.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { FIXTURE_SECRET, fixtureNames, loadFixture } from '../../test/fixtures/senders/load.ts'
import type { SenderEvent, SenderParse } from './sender.ts'
import { recogniseSender } from './sender-registry.ts'
import { hmacHex } from './signature.ts'

const COMMIT = '9f2c4b7a1d3e5f60718293a4b5c6d7e8f9012345'

const alert = (instance: string, status: 'firing' | 'resolved') => ({
  name: 'HighRequestLatency',
  status,
  labels: {
    alertname: 'HighRequestLatency',
    service: 'web',
    severity: 'page',
    instance,
    job: 'web',
  },
})

interface FixtureCase {
  sender: string
  /** Headers that carry the signature or token; removing them makes verification `missing`. */
  signatureHeaders: string[]
  /** For fixtures sent unsigned: the headers that sign them with the fixture secret. */
  sign?: (body: Buffer) => Record<string, string>
  expected: SenderParse
}

const bearer = () => ({ authorization: `Bearer ${FIXTURE_SECRET}` })
const deckhandSignature = (body: Buffer) => ({
  'x-deckhand-signature': `sha256=${hmacHex('sha256', FIXTURE_SECRET, body)}`,
})
const event = (fields: SenderEvent): SenderParse => ({ ok: true, event: fields })
const GITHUB_SIGNATURES = ['x-hub-signature-256', 'x-hub-signature']
const REGISTRY = { signatureHeaders: ['authorization'], sign: bearer }

const CASES: Record<string, FixtureCase> = {
  'acr-push': {
    sender: 'acr',
    ...REGISTRY,
    expected: event({
      kind: 'push',
      image: 'web',
      tag: '1.5.0',
      deliveryId: 'cb8c3971-9adc-488b-xxxx-43cbb4974ff5',
    }),
  },
  'alertmanager-firing': {
    sender: 'alertmanager',
    ...REGISTRY,
    expected: event({
      kind: 'alert',
      alertStatus: 'firing',
      alerts: [alert('web-1:8080', 'firing'), alert('web-2:8080', 'firing')],
    }),
  },
  'alertmanager-firing-group': {
    sender: 'alertmanager',
    signatureHeaders: ['authorization'],
    expected: event({
      kind: 'alert',
      alertStatus: 'firing',
      alerts: [
        alert('web-1:8080', 'firing'),
        alert('web-2:8080', 'firing'),
        alert('web-3:8080', 'resolved'),
      ],
    }),
  },
  'alertmanager-resolved': {
    sender: 'alertmanager',
    ...REGISTRY,
    expected: event({
      kind: 'alert',
      alertStatus: 'resolved',
      alerts: [alert('web-1:8080', 'resolved'), alert('web-2:8080', 'resolved')],
    }),
  },
  'bitbucket-push': {
    sender: 'bitbucket',
    signatureHeaders: ['x-hub-signature'],
    expected: event({
      kind: 'push',
      repository: 'acme/web',
      branch: 'main',
      commit: COMMIT,
      deliveryId: '4f506172-8394-a5b6-c7d8-e9f0a1b2c3d4',
    }),
  },
  'bitbucket-push-tag': {
    sender: 'bitbucket',
    signatureHeaders: ['x-hub-signature'],
    expected: event({
      kind: 'push',
      repository: 'acme/web',
      tag: 'v1.5.0',
      commit: COMMIT,
      deliveryId: '5a617283-94a5-b6c7-d8e9-f0a1b2c3d4e5',
    }),
  },
  'dockerhub-push': {
    sender: 'dockerhub',
    ...REGISTRY,
    expected: event({
      kind: 'push',
      image: 'acme/web',
      tag: '1.4.2',
      callbackUrl: 'http://127.0.0.1:9/u/acme/web/hook/2141b5bi5i5b02bec211i4eeih0242eg11000a/',
    }),
  },
  'forgejo-push': {
    sender: 'gitea',
    signatureHeaders: ['x-forgejo-signature', 'x-gitea-signature'],
    expected: event({
      kind: 'push',
      repository: 'acme/web',
      branch: 'main',
      commit: COMMIT,
      changedFiles: ['src/receipt.ts', 'src/checkout.ts'],
      deliveryId: 'a1f2e3d4-c5b6-4a79-8e1f-203142536475',
    }),
  },
  'form-post': {
    sender: 'generic',
    signatureHeaders: ['x-deckhand-signature'],
    sign: deckhandSignature,
    expected: event({ kind: 'plain', tag: '1.5.0' }),
  },
  'generic-empty': {
    sender: 'generic',
    signatureHeaders: ['x-deckhand-signature'],
    sign: deckhandSignature,
    expected: event({ kind: 'plain' }),
  },
  'generic-signed': {
    sender: 'generic',
    signatureHeaders: ['x-deckhand-signature'],
    expected: event({ kind: 'plain', tag: '1.5.0', deliveryId: 'ci-release-412' }),
  },
  'gitea-push': {
    sender: 'gitea',
    signatureHeaders: ['x-gitea-signature'],
    expected: event({
      kind: 'push',
      repository: 'acme/web',
      branch: 'main',
      commit: COMMIT,
      changedFiles: ['src/checkout.ts'],
      deliveryId: '5061a283-94a5-b6c7-d8e9-f0a1b2c3d4e5',
    }),
  },
  'github-package-published': {
    sender: 'github',
    signatureHeaders: GITHUB_SIGNATURES,
    expected: event({
      kind: 'push',
      image: 'acme/web',
      tag: '1.6.0',
      repository: 'acme/web',
      deliveryId: '5a9e8163-c8a1-11f0-9fb2-8e7f6a5b4c3d',
    }),
  },
  'github-ping': {
    sender: 'github',
    signatureHeaders: GITHUB_SIGNATURES,
    expected: event({
      kind: 'ping',
      repository: 'acme/web',
      deliveryId: '0b4f3c1e-c8a1-11f0-8a6d-3f2a1b0c9d8e',
    }),
  },
  'github-push-branch': {
    sender: 'github',
    signatureHeaders: GITHUB_SIGNATURES,
    expected: event({
      kind: 'push',
      repository: 'acme/web',
      branch: 'main',
      commit: COMMIT,
      changedFiles: ['src/checkout.ts'],
      deliveryId: '1c5a4d2f-c8a1-11f0-9b7e-4a3b2c1d0e9f',
    }),
  },
  'github-push-form': {
    sender: 'github',
    signatureHeaders: GITHUB_SIGNATURES,
    expected: event({
      kind: 'push',
      repository: 'acme/web',
      branch: 'main',
      commit: COMMIT,
      changedFiles: ['src/checkout.ts'],
      deliveryId: '9ed1c5a7-c8a1-11f0-93f6-c2bdae9f8071',
    }),
  },
  'github-push-sha1-only': {
    sender: 'github',
    signatureHeaders: GITHUB_SIGNATURES,
    expected: event({
      kind: 'push',
      repository: 'acme/web',
      branch: 'main',
      commit: COMMIT,
      changedFiles: ['src/checkout.ts'],
      deliveryId: '8dc0b496-c8a1-11f0-82e5-b1ac9d8e7f60',
    }),
  },
  'github-push-tag': {
    sender: 'github',
    signatureHeaders: GITHUB_SIGNATURES,
    expected: event({
      kind: 'push',
      repository: 'acme/web',
      tag: 'v1.5.0',
      commit: COMMIT,
      deliveryId: '2d6b5e30-c8a1-11f0-8c8f-5b4c3d2e1f0a',
    }),
  },
  'github-registry-package': {
    sender: 'github',
    signatureHeaders: GITHUB_SIGNATURES,
    expected: event({
      kind: 'push',
      image: 'acme/web',
      tag: '1.5.0',
      repository: 'acme/web',
      deliveryId: '3e7c6f41-c8a1-11f0-9d90-6c5d4e3f2a1b',
    }),
  },
  'github-registry-package-untagged': {
    sender: 'github',
    signatureHeaders: GITHUB_SIGNATURES,
    expected: {
      ok: false,
      ignored:
        'GitHub package acme/web version "sha256:0a1b2c3d4e" has no tag (a platform manifest of a multi-arch push); nothing to deploy',
    },
  },
  'github-workflow-run-failure': {
    sender: 'github',
    signatureHeaders: GITHUB_SIGNATURES,
    expected: {
      ok: false,
      ignored: 'GitHub workflow run "CI" on main concluded failure; only successful runs deploy',
    },
  },
  'github-workflow-run-success': {
    sender: 'github',
    signatureHeaders: GITHUB_SIGNATURES,
    expected: event({
      kind: 'push',
      repository: 'acme/web',
      branch: 'main',
      commit: COMMIT,
      deliveryId: '4f8d7052-c8a1-11f0-8ea1-7d6e5f4a3b2c',
    }),
  },
  'gitlab-pipeline-failed': {
    sender: 'gitlab',
    signatureHeaders: ['x-gitlab-token'],
    expected: {
      ok: false,
      ignored: 'GitLab pipeline 31338 on main is failed; only successful pipelines deploy',
    },
  },
  'gitlab-pipeline-success': {
    sender: 'gitlab',
    signatureHeaders: ['x-gitlab-token'],
    expected: event({
      kind: 'push',
      repository: 'acme/web',
      branch: 'main',
      commit: COMMIT,
      deliveryId: '14be63c7-8b88-4bde-93f1-a7c260e294c5',
    }),
  },
  'gitlab-push': {
    sender: 'gitlab',
    signatureHeaders: ['x-gitlab-token'],
    expected: event({
      kind: 'push',
      repository: 'acme/web',
      branch: 'main',
      commit: COMMIT,
      changedFiles: ['src/checkout.ts'],
      deliveryId: '919dee25-edda-4f47-9a12-faeabc94a6e7',
    }),
  },
  'gitlab-tag-push': {
    sender: 'gitlab',
    signatureHeaders: ['x-gitlab-token'],
    expected: event({
      kind: 'push',
      repository: 'acme/web',
      tag: 'v1.5.0',
      commit: COMMIT,
      deliveryId: '3ffb1057-b66a-4a72-a9bb-1b1ba589edc7',
    }),
  },
  'harbor-push-artifact': {
    sender: 'harbor',
    ...REGISTRY,
    expected: event({ kind: 'push', image: 'acme/web', tag: '1.5.0' }),
  },
  'registry-delete': {
    sender: 'registry',
    ...REGISTRY,
    expected: {
      ok: false,
      ignored:
        'registry event "delete" of 127.0.0.1:46459/acme/web:1.5.0: only pushes of tagged manifests deploy',
    },
  },
  'registry-mount': {
    sender: 'registry',
    ...REGISTRY,
    expected: {
      ok: false,
      ignored:
        'registry event "mount" of 127.0.0.1:46459/acme/api: only pushes of tagged manifests deploy',
    },
  },
  'registry-pull': {
    sender: 'registry',
    ...REGISTRY,
    expected: {
      ok: false,
      ignored:
        'registry event "pull" of 127.0.0.1:46459/acme/web:1.5.0: only pushes of tagged manifests deploy',
    },
  },
  'registry-push': {
    sender: 'registry',
    ...REGISTRY,
    expected: event({
      kind: 'push',
      image: 'acme/web',
      tag: '1.5.0',
      registry: '127.0.0.1:46459',
      deliveryId: '3f699fd4-6785-4fb8-8a3e-741a51ac98f9',
    }),
  },
  'registry-push-blob': {
    sender: 'registry',
    ...REGISTRY,
    expected: {
      ok: false,
      ignored:
        'registry event push of a layer blob to 127.0.0.1:46459/acme/web: only pushes of tagged manifests deploy',
    },
  },
  'quay-push': {
    sender: 'quay',
    ...REGISTRY,
    expected: event({ kind: 'push', image: 'acme/web', tag: '1.5.0' }),
  },
}

it('every fixture in the folder has a case, and every case a fixture', () => {
  assert.deepEqual(fixtureNames(), Object.keys(CASES).sort())
})

for (const [name, fixture] of Object.entries(CASES)) {
  describe(`fixture ${name}`, () => {
    const signed = () => {
      const request = loadFixture(name)
      return fixture.sign === undefined
        ? request
        : loadFixture(name, { headers: fixture.sign(request.body) })
    }

    it(`is recognised as ${fixture.sender}`, () => {
      assert.equal(recogniseSender(loadFixture(name)).id, fixture.sender)
    })

    it('verifies with the fixture secret', () => {
      assert.equal(recogniseSender(signed()).verify(signed(), FIXTURE_SECRET), 'valid')
    })

    it('does not verify with another secret', () => {
      assert.equal(recogniseSender(signed()).verify(signed(), 'another-secret'), 'invalid')
    })

    it('reports the signature missing when its header is absent', () => {
      const removed = Object.fromEntries(
        fixture.signatureHeaders.map((header) => [header, undefined]),
      )
      const request = loadFixture(name, { headers: removed })
      assert.equal(recogniseSender(request).verify(request, FIXTURE_SECRET), 'missing')
    })

    it('parses to the exact event', () => {
      const request = loadFixture(name)
      assert.deepEqual(recogniseSender(request).parse(request), fixture.expected)
    })
  })
}
