/** Every captured sender fixture through the real POST /hooks/{token}: verified, parsed, queued or ignored. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import { hmacHex } from '../../src/senders/signature.ts'
import { FIXTURE_SECRET, fixtureNames, readFixture } from '../fixtures/senders/load.ts'
import { commandService, startTestServer, type TestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

const COMMIT = '9f2c4b7a1d3e5f60718293a4b5c6d7e8f9012345'
const GIT = { git: { repo: 'acme/web', branch: 'main' } }
const SCRIPT =
  'echo "tag=${DECKHAND_IMAGE_TAG:-} commit=${DECKHAND_GIT_COMMIT:-} branch=${DECKHAND_GIT_BRANCH:-}"'

interface FixtureCase {
  /** Extra service fields: the git source or image the fixture's event must match. */
  service?: Record<string, unknown>
  trigger?: Record<string, unknown>
  /** How to sign a fixture its sender sent unsigned: a bearer token or X-Deckhand-Signature. */
  sign?: 'bearer' | 'deckhand'
  /** The line the redeploy's script prints, from the section-4 environment. */
  redeploys?: string
  /** The signed replica step a scale deployment is queued with. */
  scales?: number
  ignored?: string
}

const pushed = (tag: string, branch = 'main') => `tag=${tag} commit=${COMMIT} branch=${branch}`
const git = (line = pushed('')): FixtureCase => ({ service: GIT, redeploys: line })
const image = (name: string, tag = '1.5.0'): FixtureCase => ({
  service: { image: name },
  sign: 'bearer',
  redeploys: `tag=${tag} commit= branch=`,
})
const scaleUp = { action: 'scale-up', cooldown: 0 }

const CASES: Record<string, FixtureCase> = {
  'acr-push': image('acmeregistry.azurecr.io/web'),
  'alertmanager-firing': { trigger: scaleUp, sign: 'bearer', scales: 1 },
  'alertmanager-firing-group': { trigger: scaleUp, scales: 1 },
  'alertmanager-resolved': {
    trigger: scaleUp,
    sign: 'bearer',
    ignored: 'alert resolved; the trigger does not reverse on resolve',
  },
  'bitbucket-push': git(),
  'bitbucket-push-tag': git(`tag=v1.5.0 commit=${COMMIT} branch=`),
  'dockerhub-push': image('acme/web', '1.4.2'),
  'forgejo-push': git(),
  'form-post': { sign: 'deckhand', redeploys: 'tag=1.5.0 commit= branch=' },
  'generic-empty': { sign: 'deckhand', redeploys: 'tag= commit= branch=' },
  'generic-signed': { redeploys: 'tag=1.5.0 commit= branch=' },
  'gitea-push': git(),
  'github-package-published': {
    service: { image: 'ghcr.io/acme/web' },
    redeploys: 'tag=1.6.0 commit= branch=',
  },
  'github-ping': { service: GIT, ignored: 'ping: the sender checked the URL; nothing to deploy' },
  'github-push-branch': git(),
  'github-push-form': git(),
  'github-push-sha1-only': git(),
  'github-push-tag': git(`tag=v1.5.0 commit=${COMMIT} branch=`),
  'github-registry-package': {
    service: { image: 'ghcr.io/acme/web' },
    redeploys: 'tag=1.5.0 commit= branch=',
  },
  'github-registry-package-untagged': {
    service: { image: 'ghcr.io/acme/web' },
    ignored:
      'GitHub package acme/web version "sha256:0a1b2c3d4e" has no tag (a platform manifest of a multi-arch push); nothing to deploy',
  },
  'github-workflow-run-failure': {
    service: GIT,
    ignored: 'GitHub workflow run "CI" on main concluded failure; only successful runs deploy',
  },
  'github-workflow-run-success': git(),
  'gitlab-pipeline-failed': {
    service: GIT,
    ignored: 'GitLab pipeline 31338 on main is failed; only successful pipelines deploy',
  },
  'gitlab-pipeline-success': git(),
  'gitlab-push': git(),
  'gitlab-tag-push': git(`tag=v1.5.0 commit=${COMMIT} branch=`),
  'harbor-push-artifact': image('harbor.acme.example/acme/web'),
  'quay-push': image('quay.io/acme/web'),
  'registry-delete': {
    service: { image: '127.0.0.1:46459/acme/web' },
    sign: 'bearer',
    ignored:
      'registry event "delete" of 127.0.0.1:46459/acme/web:1.5.0: only pushes of tagged manifests deploy',
  },
  'registry-mount': {
    service: { image: '127.0.0.1:46459/acme/api' },
    sign: 'bearer',
    ignored:
      'registry event "mount" of 127.0.0.1:46459/acme/api: only pushes of tagged manifests deploy',
  },
  'registry-pull': {
    service: { image: '127.0.0.1:46459/acme/web' },
    sign: 'bearer',
    ignored:
      'registry event "pull" of 127.0.0.1:46459/acme/web:1.5.0: only pushes of tagged manifests deploy',
  },
  'registry-push': image('127.0.0.1:46459/acme/web'),
  'registry-push-blob': {
    service: { image: '127.0.0.1:46459/acme/web' },
    sign: 'bearer',
    ignored:
      'registry event push of a layer blob to 127.0.0.1:46459/acme/web: only pushes of tagged manifests deploy',
  },
}

/** The fixture's headers, plus a signature with the fixture secret when its sender sent none. */
function signedHeaders(name: string, sign?: 'bearer' | 'deckhand'): Record<string, string> {
  const { body, headers } = readFixture(name)
  if (sign === 'bearer') {
    return { ...headers, Authorization: `Bearer ${FIXTURE_SECRET}` }
  }
  if (sign === 'deckhand') {
    return {
      ...headers,
      'X-Deckhand-Signature': `sha256=${hmacHex('sha256', FIXTURE_SECRET, body)}`,
    }
  }
  return headers
}

/** POSTs the fixture's exact bytes; an empty body is sent as none, as curl does. */
function sendFixture(
  server: TestServer,
  url: string,
  name: string,
  headers = readFixture(name).headers,
) {
  const { body } = readFixture(name)
  return server.hook(url, { body: body.length > 0 ? body : undefined, headers })
}

describe('every sender fixture through POST /hooks/{token}', () => {
  let server: TestServer
  before(async () => {
    server = await startTestServer(undefined)
  })
  after(() => server.close())

  it('every fixture in the folder has an endpoint case', () => {
    assert.deepEqual(Object.keys(CASES).sort(), fixtureNames())
  })

  for (const [name, fixture] of Object.entries(CASES)) {
    const outcome = fixture.ignored ? `200 ignored` : fixture.scales ? 'a scale step' : 'a redeploy'
    it(`${name}, verified with the trigger secret, queues ${outcome}`, async () => {
      const service = commandService(name, SCRIPT, fixture.service ?? {})
      assert.equal((await server.api('POST', '/api/v1/services', service)).status, 201)
      const trigger = await server.api('POST', `/api/v1/services/${name}/triggers`, {
        action: 'redeploy',
        secret: FIXTURE_SECRET,
        ...fixture.trigger,
      })
      assert.equal(trigger.status, 201, JSON.stringify(trigger.body))
      const answer = await sendFixture(
        server,
        trigger.body.url,
        name,
        signedHeaders(name, fixture.sign),
      )
      if (fixture.ignored) {
        assert.deepEqual(
          { status: answer.status, body: answer.body },
          {
            status: 200,
            body: { status: 'ignored', reason: fixture.ignored },
          },
        )
        const deployments = await server.api('GET', `/api/v1/deployments?service=${name}`)
        assert.deepEqual(deployments.body.items, [])
        return
      }
      assert.equal(answer.status, 202, JSON.stringify(answer.body))
      const [queued, ...others] = answer.body.deployments
      assert.deepEqual(others, [])
      assert.equal(queued.service, name)
      assert.equal(queued.action, fixture.scales ? 'scale' : 'redeploy')
      const done = await waitFor(
        async () => {
          const d = await server.api('GET', `/api/v1/deployments/${queued.id}`)
          return d.body.state === 'queued' || d.body.state === 'running' ? undefined : d.body
        },
        { what: `the ${name} deployment to end` },
      )
      assert.equal(done.state, 'succeeded', done.error)
      if (fixture.scales) {
        assert.equal(done.params.by, fixture.scales)
        return
      }
      const log = await server.api('GET', `/api/v1/deployments/${queued.id}/log`)
      const lines = log.body.items.map((l: { line: string }) => l.line)
      assert.ok(lines.includes(fixture.redeploys), lines.join('\n'))
    })
  }

  it('a fixture secret is never written to the log', () => {
    assert.equal(server.logs.join('\n').includes(FIXTURE_SECRET), false)
  })
})
