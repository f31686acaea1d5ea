/** Git services and stacks as on Cloud 66, and tag policies, through the real POST /hooks/{token}. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import { hmacHex } from '../../src/senders/signature.ts'
import { FIXTURE_SECRET, readFixture } from '../fixtures/senders/load.ts'
import { commandService, startTestServer, type TestServer } from '../support/start-server.ts'

const DELIVERY_HEADERS =
  /^(x-github-delivery|x-gitea-delivery|x-forgejo-delivery|x-gogs-delivery|x-request-uuid|x-gitlab-event-uuid|idempotency-key)$/i

/**
 * The fixture's exact bytes and headers (signed with FIXTURE_SECRET), with a bearer for unsigned
 * senders, without delivery ids: each test sends the same push again, and must not be a redelivery.
 */
const fixture = (name: string, bearer = false) => {
  const { body, headers } = readFixture(name)
  const fresh = Object.fromEntries(
    Object.entries(headers).filter(([key]) => !DELIVERY_HEADERS.test(key)),
  )
  return { body, headers: bearer ? { ...fresh, Authorization: `Bearer ${FIXTURE_SECRET}` } : fresh }
}
/** A generic call with no git or image information, signed. */
const plain = (body = '') => ({
  body: body === '' ? undefined : body,
  headers: { 'X-Deckhand-Signature': `sha256=${hmacHex('sha256', FIXTURE_SECRET, body)}` },
})
const queuedServices = (answer: { status: number; body: any }) => {
  assert.equal(answer.status, 202, JSON.stringify(answer.body))
  return answer.body.deployments.map((d: { service: string }) => d.service).sort()
}

describe('a stack of git services on two branches and image services', () => {
  let server: TestServer
  let stackUrl = ''
  before(async () => {
    server = await startTestServer(undefined)
    // github-push-branch pushes acme/web main, changing only src/checkout.ts.
    const services = [
      commandService('api', 'echo ok', {
        git: { repo: 'acme/web', branch: 'main', paths: ['src/api/**'] },
      }),
      commandService('web', 'echo ok', {
        image: 'acme/web',
        git: { repo: 'acme/web', branch: 'main' },
      }),
      commandService('admin', 'echo ok', { git: { repo: 'acme/web', branch: 'release' } }),
      commandService('cache', 'echo ok', { image: 'acme/cache' }),
    ]
    for (const service of services) {
      assert.equal((await server.api('POST', '/api/v1/services', service)).status, 201)
    }
    const stack = await server.api('POST', '/api/v1/stacks', {
      name: 'shop',
      services: services.map((s) => s.name),
    })
    assert.equal(stack.status, 201, JSON.stringify(stack.body))
    const trigger = await server.api('POST', '/api/v1/stacks/shop/triggers', {
      action: 'redeploy',
      secret: FIXTURE_SECRET,
    })
    stackUrl = trigger.body.url
  })
  after(() => server.close())

  it('a push to main redeploys exactly the services that follow main and whose paths match', async () => {
    assert.deepEqual(queuedServices(await server.hook(stackUrl, fixture('github-push-branch'))), [
      'web',
    ])
  })

  it('the same push from GitLab and Gitea picks the same service', async () => {
    for (const name of ['gitlab-push', 'gitea-push', 'forgejo-push']) {
      assert.deepEqual(queuedServices(await server.hook(stackUrl, fixture(name))), ['web'], name)
    }
  })

  it('a push from a sender that lists no changed files (Bitbucket) is not filtered by git.paths', async () => {
    assert.deepEqual(queuedServices(await server.hook(stackUrl, fixture('bitbucket-push'))), [
      'api',
      'web',
    ])
  })

  it('?services= narrows the stack, and a subset that matches nothing is 200 ignored with each reason', async () => {
    const narrowed = await server.hook(
      `${stackUrl}?services=web,cache`,
      fixture('github-push-branch'),
    )
    assert.deepEqual(queuedServices(narrowed), ['web'])
    // A tag push names no branch and lists no files: git services match it by repository alone.
    const tagged = await server.hook(`${stackUrl}?services=admin,api`, fixture('github-push-tag'))
    assert.deepEqual(queuedServices(tagged), ['admin', 'api'])
    const ignored = await server.hook(
      `${stackUrl}?services=admin`,
      fixture('github-workflow-run-success'),
    )
    assert.deepEqual(ignored.body, {
      status: 'ignored',
      reason: 'admin: push to branch main, service follows release',
    })
  })

  it('a push whose changed files match none of git.paths is ignored', async () => {
    const answer = await server.hook(
      `${stackUrl}?services=api,cache`,
      fixture('github-push-branch'),
    )
    assert.deepEqual(answer.body, {
      status: 'ignored',
      reason:
        'api: no changed file matches git.paths (src/api/**); cache: push to acme/web, service has no git source',
    })
  })

  it('a call with no git information redeploys every service of the stack', async () => {
    assert.deepEqual(queuedServices(await server.hook(stackUrl, plain())), [
      'admin',
      'api',
      'cache',
      'web',
    ])
    assert.deepEqual(queuedServices(await server.hook(`${stackUrl}?services=api`, plain('{}'))), [
      'api',
    ])
  })

  it('image services match registry pushes by image repository, and only they do', async () => {
    const pushed = await server.hook(stackUrl, fixture('dockerhub-push', true))
    assert.deepEqual(queuedServices(pushed), ['web'])
    const deployment = await server.api(
      'GET',
      `/api/v1/deployments/${pushed.body.deployments[0].id}`,
    )
    assert.equal(deployment.body.params.tag, '1.4.2')
    const body = JSON.parse(readFixture('dockerhub-push').body.toString())
    body.repository.repo_name = 'acme/cache'
    const cache = await server.hook(stackUrl, {
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${FIXTURE_SECRET}` },
    })
    assert.deepEqual(queuedServices(cache), ['cache'])
  })
})

describe('tag policies through the endpoint', () => {
  let server: TestServer
  before(async () => {
    server = await startTestServer(undefined)
  })
  after(() => server.close())

  const triggerFor = async (name: string, service: Record<string, unknown>) => {
    assert.equal(
      (await server.api('POST', '/api/v1/services', commandService(name, 'echo ok', service)))
        .status,
      201,
    )
    const trigger = await server.api('POST', `/api/v1/services/${name}/triggers`, {
      action: 'redeploy',
      allowTag: true,
    })
    return trigger.body.url as string
  }

  it('a registry push refused by the service tag policy answers 200 ignored with the reason', async () => {
    const url = await triggerFor('glob', { image: 'acme/web', tagPolicy: 'glob:1.3.*' })
    const answer = await server.hook(url, readFixture('dockerhub-push'))
    assert.deepEqual(
      { status: answer.status, body: answer.body },
      {
        status: 200,
        body: { status: 'ignored', reason: 'glob: tag 1.4.2 does not match glob:1.3.*' },
      },
    )
    assert.deepEqual((await server.api('GET', '/api/v1/deployments?service=glob')).body.items, [])
  })

  it('?tag= refused by a semver policy answers 200 ignored, and an allowed one queues that tag', async () => {
    const url = await triggerFor('semver', {
      image: 'acme/web',
      tag: '1.4.0',
      tagPolicy: 'semver-patch',
    })
    const refused = await server.hook(`${url}?tag=1.5.0`)
    assert.equal(refused.status, 200)
    assert.equal(refused.body.status, 'ignored')
    assert.match(refused.body.reason, /^semver: .*1\.5\.0/)
    const allowed = await server.hook(`${url}?tag=1.4.3`)
    assert.equal(allowed.status, 202)
    const deployment = await server.api(
      'GET',
      `/api/v1/deployments/${allowed.body.deployments[0].id}`,
    )
    assert.equal(deployment.body.params.tag, '1.4.3')
  })

  it('a refused call is recorded as ignored with its reason', async () => {
    const calls = await server.api('GET', '/api/v1/calls?outcome=ignored')
    assert.ok(
      calls.body.items.some(
        (c: { reason: string }) => c.reason === 'glob: tag 1.4.2 does not match glob:1.3.*',
      ),
    )
  })
})
