// What each sender makes of bodies and headers that are not its happy path.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FIXTURE_SECRET, loadFixture, readFixture } from '../../test/fixtures/senders/load.ts'
import type { SenderParse, SenderRequest } from './sender.ts'
import { recogniseSender, SENDERS, senderById, senderFor } from './sender-registry.ts'
import { hmacHex } from './signature.ts'

function sender(id: string) {
  const found = senderById(id)
  assert.ok(found, `sender ${id} exists`)
  return found
}

function request(headers: Record<string, string>, body: string | object, query = {}): SenderRequest {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  return { headers, body: Buffer.from(text), query }
}

/** A fixture's JSON body with `change` applied, as a request with the fixture's headers. */
function edited(name: string, change: (body: Record<string, any>) => void): SenderRequest {
  const raw = readFixture(name)
  const body = JSON.parse(raw.body.toString('utf8'))
  change(body)
  return loadFixture(name, { body: Buffer.from(JSON.stringify(body)) })
}

const reasonOf = (parse: SenderParse): string =>
  'ignored' in parse ? `ignored: ${parse.ignored}` : 'invalid' in parse ? `invalid: ${parse.invalid}` : 'ok'

describe('sender registry', () => {
  it('lists every sender id of the model but auto, generic last', () => {
    assert.deepEqual(SENDERS.map((s) => s.id).sort(), [
      'acr', 'alertmanager', 'bitbucket', 'dockerhub', 'generic', 'gitea', 'github', 'gitlab', 'harbor', 'quay',
    ])
    assert.equal(SENDERS.at(-1)?.id, 'generic')
  })

  it('recognises Gitea before GitHub although Gitea sends X-GitHub-Event too', () => {
    assert.equal(recogniseSender(loadFixture('gitea-push')).id, 'gitea')
  })

  it('has no sender for auto, and resolves auto by recognition', () => {
    assert.equal(senderById('auto'), undefined)
    assert.equal(senderById('nope'), undefined)
    assert.equal(senderFor(loadFixture('gitlab-push'), 'auto').id, 'gitlab')
    assert.equal(senderFor(loadFixture('gitlab-push'), 'generic').id, 'generic')
  })

  it('falls back to generic for bodies no sender claims', () => {
    assert.equal(recogniseSender(request({}, '')).id, 'generic')
    assert.equal(recogniseSender(request({ 'content-type': 'application/json' }, { hello: 'world' })).id, 'generic')
    assert.equal(recogniseSender(request({}, '[1,2,3]')).id, 'generic')
  })
})

describe('a JSON sender pinned on a body that is not JSON', () => {
  const cases: Array<[string, string]> = [
    ['github-push-branch', 'a GitHub push must be JSON: '],
    ['gitlab-push', 'a GitLab Push Hook must be JSON: '],
    ['bitbucket-push', 'a Bitbucket repo:push must be JSON: '],
    ['gitea-push', 'a Gitea push must be JSON: '],
    ['dockerhub-push', 'a Docker Hub push must be JSON: '],
    ['alertmanager-firing', 'an Alertmanager notification must be JSON: '],
    ['harbor-push-artifact', 'a Harbor event must be JSON: '],
    ['quay-push', 'a Quay push must be JSON: '],
    ['acr-push', 'an Azure Container Registry event must be JSON: '],
  ]
  for (const [name, prefix] of cases) {
    const id = recogniseSender(loadFixture(name)).id
    it(`${id} answers invalid, naming the problem but never quoting the body`, () => {
      for (const [body, problem] of [
        ['tag=1.5.0', 'the body is not valid JSON'],
        ['{"ref": "refs/heads/main",', 'the body is not valid JSON (error at character 26)'],
        ['', 'the body is empty'],
        ['[1,2]', 'the body is JSON but an array, not an object'],
        ['"secret-looking"', 'the body is JSON but a string, not an object'],
      ] as const) {
        const parse = sender(id).parse(loadFixture(name, { body: Buffer.from(body) }))
        assert.ok('invalid' in parse, `${body} → ${reasonOf(parse)}`)
        assert.equal(parse.invalid, prefix + problem)
        assert.ok(!parse.invalid.includes('secret-looking'))
      }
    })
  }

  it('names invalid UTF-8 as such', () => {
    const parse = sender('github').parse(loadFixture('github-push-branch', { body: Buffer.from([0x7b, 0xff, 0x7d]) }))
    assert.deepEqual(parse, { ok: false, invalid: 'a GitHub push must be JSON: the body is not valid UTF-8' })
  })
})

describe('GitHub', () => {
  const github = sender('github')

  it('falls back to the SHA-1 signature only when the SHA-256 one is absent', () => {
    const sha1Only = loadFixture('github-push-sha1-only')
    assert.equal(github.verify(sha1Only, FIXTURE_SECRET), 'valid')
    const wrong256 = loadFixture('github-package-published', { headers: { 'x-hub-signature-256': 'sha256=00' } })
    assert.equal(github.verify(wrong256, FIXTURE_SECRET), 'invalid', 'a bad SHA-256 is not rescued by SHA-1')
  })

  it('ignores events it does not act on, naming them', () => {
    const parse = github.parse(loadFixture('github-ping', { headers: { 'x-github-event': 'issues' } }))
    assert.deepEqual(parse, {
      ok: false,
      ignored: 'GitHub event "issues" is not one Deckhand acts on (ping, push, package, registry_package, workflow_run)',
    })
  })

  it('ignores a push that deletes a branch', () => {
    const parse = github.parse(edited('github-push-branch', (body) => {
      body.deleted = true
      body.after = '0000000000000000000000000000000000000000'
    }))
    assert.deepEqual(parse, { ok: false, ignored: 'GitHub push deleted branch main; nothing to deploy' })
  })

  it('ignores a push to a ref that is neither branch nor tag', () => {
    const parse = github.parse(edited('github-push-branch', (body) => (body.ref = 'refs/notes/commits')))
    assert.deepEqual(parse, { ok: false, ignored: 'GitHub push to "refs/notes/commits" is neither a branch nor a tag' })
  })

  it('answers invalid when a push has no ref', () => {
    const parse = github.parse(edited('github-push-branch', (body) => delete body.ref))
    assert.deepEqual(parse, { ok: false, invalid: 'a GitHub push must name its "ref"' })
  })

  it('lower-cases repository and image names', () => {
    const push = github.parse(edited('github-push-branch', (body) => (body.repository.full_name = 'Acme/Web')))
    assert.ok(push.ok && push.event.repository === 'acme/web')
    const pkg = github.parse(edited('github-package-published', (body) => {
      body.package.package_version.package_url = 'ghcr.io/Acme/Web:1.6.0'
    }))
    assert.ok(pkg.ok && pkg.event.image === 'acme/web')
  })

  it('collects changed files across commits once each', () => {
    const parse = github.parse(edited('github-push-branch', (body) => {
      body.commits.push({ added: ['docs/a.md'], modified: ['src/checkout.ts'], removed: ['old.ts'] })
    }))
    assert.ok(parse.ok)
    assert.deepEqual(parse.event.changedFiles, ['src/checkout.ts', 'docs/a.md', 'old.ts'])
  })

  it('ignores package versions that are not published, and packages that are not containers', () => {
    assert.deepEqual(
      reasonOf(github.parse(edited('github-package-published', (body) => (body.action = 'updated')))),
      'ignored: GitHub package "updated"; only published versions deploy',
    )
    assert.deepEqual(
      reasonOf(github.parse(edited('github-package-published', (body) => {
        body.package.package_type = 'npm'
        body.package.ecosystem = 'npm'
      }))),
      'ignored: GitHub package "web" is a npm package, not a container image',
    )
  })

  it('names the image from namespace and name when there is no package URL', () => {
    const parse = github.parse(edited('github-registry-package', (body) => {
      delete body.registry_package.package_version.package_url
      body.registry_package.name = 'Web-API'
    }))
    assert.ok(parse.ok && parse.event.image === 'acme/web-api')
  })

  it('ignores a workflow run that is not completed, and one from a fork', () => {
    assert.equal(
      reasonOf(github.parse(edited('github-workflow-run-success', (body) => (body.action = 'requested')))),
      'ignored: GitHub workflow run "CI" is "requested"; only completed runs deploy',
    )
    assert.equal(
      reasonOf(github.parse(edited('github-workflow-run-success', (body) => {
        body.workflow_run.head_repository.full_name = 'mallory/web'
      }))),
      'ignored: GitHub workflow run "CI" ran on mallory/web, a fork; only runs of the repository itself deploy',
    )
  })

  it('answers invalid when the event header is missing on a pinned GitHub trigger', () => {
    assert.equal(
      reasonOf(github.parse(loadFixture('github-push-branch', { headers: { 'x-github-event': undefined } }))),
      'invalid: a GitHub delivery must name its event in X-GitHub-Event',
    )
  })
})

describe('GitLab', () => {
  const gitlab = sender('gitlab')

  it('compares the token exactly', () => {
    assert.equal(gitlab.verify(loadFixture('gitlab-push', { headers: { 'x-gitlab-token': 'fixture-secre' } }), FIXTURE_SECRET), 'invalid')
  })

  it('takes the delivery id from X-Gitlab-Event-UUID when there is no Idempotency-Key', () => {
    const parse = gitlab.parse(loadFixture('gitlab-push', { headers: { 'idempotency-key': undefined } }))
    assert.ok(parse.ok && parse.event.deliveryId === '7b2c3d4e-0000-4000-8000-000000000002')
  })

  it('does not trust a truncated commit list for changed files', () => {
    const parse = gitlab.parse(edited('gitlab-push', (body) => (body.total_commits_count = 40)))
    assert.ok(parse.ok && parse.event.changedFiles === undefined)
  })

  it('ignores a branch deletion, a merge request pipeline and other events', () => {
    assert.equal(
      reasonOf(gitlab.parse(edited('gitlab-push', (body) => {
        body.after = '0000000000000000000000000000000000000000'
        body.checkout_sha = null
      }))),
      'ignored: GitLab Push Hook deleted branch main; nothing to deploy',
    )
    assert.equal(
      reasonOf(gitlab.parse(edited('gitlab-pipeline-success', (body) => (body.merge_request = { iid: 7 })))),
      'ignored: GitLab pipeline 31337 ran for a merge request; only branch and tag pipelines deploy',
    )
    assert.equal(
      reasonOf(gitlab.parse(loadFixture('gitlab-push', { headers: { 'x-gitlab-event': 'Issue Hook' } }))),
      'ignored: GitLab event "Issue Hook" is not one Deckhand acts on (Push Hook, Tag Push Hook, Pipeline Hook)',
    )
  })

  it('reads a tag pipeline as a tag', () => {
    const parse = gitlab.parse(edited('gitlab-pipeline-success', (body) => {
      body.object_attributes.ref = 'v1.5.0'
      body.object_attributes.tag = true
    }))
    assert.ok(parse.ok)
    assert.equal(parse.event.tag, 'v1.5.0')
    assert.equal(parse.event.branch, undefined)
  })

  it('reads a push delivered as a System Hook by its object_kind', () => {
    const parse = gitlab.parse(loadFixture('gitlab-push', { headers: { 'x-gitlab-event': 'System Hook' } }))
    assert.ok(parse.ok && parse.event.branch === 'main')
  })
})

describe('Bitbucket', () => {
  const bitbucket = sender('bitbucket')

  it('ignores other event keys and a deleted branch', () => {
    assert.equal(
      reasonOf(bitbucket.parse(loadFixture('bitbucket-push', { headers: { 'x-event-key': 'pullrequest:created' } }))),
      'ignored: Bitbucket event "pullrequest:created" is not one Deckhand acts on (repo:push)',
    )
    assert.equal(
      reasonOf(bitbucket.parse(edited('bitbucket-push', (body) => (body.push.changes[0].new = null)))),
      'ignored: Bitbucket push deleted "main"; nothing to deploy',
    )
  })

  it('reads the last of several changes', () => {
    const parse = bitbucket.parse(edited('bitbucket-push', (body) => {
      body.push.changes.push({ new: { type: 'branch', name: 'release', target: { hash: 'abc123' } } })
    }))
    assert.ok(parse.ok)
    assert.equal(parse.event.branch, 'release')
    assert.equal(parse.event.commit, 'abc123')
  })
})

describe('Gitea and Forgejo', () => {
  const gitea = sender('gitea')
  const forgejoOnly = () => {
    const raw = readFixture('forgejo-push')
    const headers = Object.fromEntries(
      Object.entries(raw.headers)
        .map(([key, value]) => [key.toLowerCase(), value])
        .filter(([key]) => !/^x-(gitea|gogs|github|hub)-/.test(key ?? '')),
    )
    return { headers, body: raw.body, query: {} }
  }

  it('recognises and verifies Forgejo by its own headers alone', () => {
    const request = forgejoOnly()
    assert.equal(recogniseSender(request).id, 'gitea')
    assert.equal(gitea.verify(request, FIXTURE_SECRET), 'valid')
    const parse = gitea.parse(request)
    assert.ok(parse.ok && parse.event.deliveryId === 'a1f2e3d4-c5b6-4a79-8e1f-203142536475')
  })

  it('does not accept the prefixed GitHub form in place of the bare hex', () => {
    const body = readFixture('gitea-push').body
    const request = loadFixture('gitea-push', {
      headers: { 'x-gitea-signature': `sha256=${hmacHex('sha256', FIXTURE_SECRET, body)}` },
    })
    assert.equal(gitea.verify(request, FIXTURE_SECRET), 'invalid')
  })

  it('ignores events other than push, naming Forgejo when Forgejo sent them', () => {
    assert.equal(
      reasonOf(gitea.parse(loadFixture('forgejo-push', { headers: { 'x-forgejo-event': 'release' } }))),
      'ignored: Forgejo event "release" is not one Deckhand acts on (push)',
    )
  })
})

describe('Alertmanager', () => {
  const alertmanager = sender('alertmanager')

  it('is not recognised for other webhook versions, and answers invalid when pinned', () => {
    const request = edited('alertmanager-firing', (body) => (body.version = '3'))
    assert.notEqual(recogniseSender(request).id, 'alertmanager')
    assert.equal(
      reasonOf(alertmanager.parse(request)),
      'invalid: an Alertmanager notification must be webhook version "4", found "3"',
    )
  })

  it('answers invalid for an unknown group status', () => {
    assert.equal(
      reasonOf(alertmanager.parse(edited('alertmanager-firing', (body) => (body.status = 'pending')))),
      'invalid: an Alertmanager notification must have status "firing" or "resolved"',
    )
  })

  it('accepts basic auth with the secret as password', () => {
    const basic = `Basic ${Buffer.from(`alertmanager:${FIXTURE_SECRET}`).toString('base64')}`
    assert.equal(alertmanager.verify(loadFixture('alertmanager-firing', { headers: { authorization: basic } }), FIXTURE_SECRET), 'valid')
  })
})

describe('registries', () => {
  it('ignore pushes by digest and events other than push', () => {
    assert.equal(
      reasonOf(sender('harbor').parse(edited('harbor-push-artifact', (body) => delete body.event_data.resources[0].tag))),
      'ignored: Harbor push to acme/web has no tag (pushed by digest); nothing to deploy',
    )
    assert.equal(
      reasonOf(sender('harbor').parse(edited('harbor-push-artifact', (body) => (body.type = 'PULL_ARTIFACT')))),
      'ignored: Harbor event "PULL_ARTIFACT" is not one Deckhand acts on (PUSH_ARTIFACT)',
    )
    assert.equal(
      reasonOf(sender('acr').parse(edited('acr-push', (body) => delete body.target.tag))),
      'ignored: Azure Container Registry push to web has no tag (pushed by digest); nothing to deploy',
    )
    assert.equal(
      reasonOf(sender('acr').parse(edited('acr-push', (body) => (body.action = 'delete')))),
      'ignored: Azure Container Registry event "delete" is not one Deckhand acts on (push)',
    )
    assert.equal(
      reasonOf(sender('quay').parse(edited('quay-push', (body) => (body.updated_tags = [])))),
      'ignored: Quay push to acme/web updated no tag; nothing to deploy',
    )
    assert.equal(
      reasonOf(sender('dockerhub').parse(edited('dockerhub-push', (body) => delete body.push_data.tag))),
      'ignored: Docker Hub push to acme/web names no tag; nothing to deploy',
    )
  })

  it('Quay takes the highest semver tag of a push, else the first', () => {
    const pick = (tags: string[]) => {
      const parse = sender('quay').parse(edited('quay-push', (body) => (body.updated_tags = tags)))
      return parse.ok ? parse.event.tag : reasonOf(parse)
    }
    assert.equal(pick(['latest', '1.5.0', '1.10.0', '1.9.9']), '1.10.0')
    assert.equal(pick(['latest', 'edge']), 'latest')
  })

  it('Docker Hub drops a callback URL that is not http(s)', () => {
    const parse = sender('dockerhub').parse(edited('dockerhub-push', (body) => (body.callback_url = 'file:///etc/passwd')))
    assert.ok(parse.ok && parse.event.callbackUrl === undefined)
  })

  it('answer invalid when pinned on a JSON body of another shape', () => {
    const other = request({ 'content-type': 'application/json' }, { hello: 'world' })
    for (const id of ['dockerhub', 'harbor', 'quay', 'acr', 'alertmanager']) {
      assert.ok('invalid' in sender(id).parse(other), id)
    }
  })
})

describe('generic', () => {
  const generic = sender('generic')

  it('takes ?tag= before a tag in the body', () => {
    const parse = generic.parse(loadFixture('form-post', { query: { tag: '2.0.0' } }))
    assert.ok(parse.ok && parse.event.tag === '2.0.0')
  })

  it('reads text bodies and unknown JSON without a tag as plain calls', () => {
    assert.deepEqual(generic.parse(request({ 'content-type': 'text/plain' }, 'deploy please')), {
      ok: true,
      event: { kind: 'plain' },
    })
    assert.deepEqual(generic.parse(request({ 'content-type': 'application/json' }, { tag: 5 })), {
      ok: true,
      event: { kind: 'plain' },
    })
  })

  it('takes Idempotency-Key as the delivery id, but not an absurdly long one', () => {
    const ok = generic.parse(request({ 'idempotency-key': 'k1' }, ''))
    assert.ok(ok.ok && ok.event.deliveryId === 'k1')
    const long = generic.parse(request({ 'idempotency-key': 'k'.repeat(500) }, ''))
    assert.ok(long.ok && long.event.deliveryId === undefined)
  })
})
