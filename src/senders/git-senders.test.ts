// What the git senders (GitHub, GitLab, Bitbucket, Gitea/Forgejo) make of their edge cases.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import {
  editFixture,
  FIXTURE_SECRET,
  loadFixture,
  readFixture,
} from '../../test/fixtures/senders/load.ts'
import type { SenderParse } from './sender.ts'
import { recogniseSender, senderById } from './sender-registry.ts'
import { hmacHex } from './signature.ts'

function sender(id: string) {
  const found = senderById(id)
  assert.ok(found, `sender ${id} exists`)
  return found
}

const reasonOf = (parse: SenderParse): string =>
  'ignored' in parse
    ? `ignored: ${parse.ignored}`
    : 'invalid' in parse
      ? `invalid: ${parse.invalid}`
      : 'ok'

describe('GitHub', () => {
  const github = sender('github')

  it('falls back to the SHA-1 signature only when the SHA-256 one is absent', () => {
    const sha1Only = loadFixture('github-push-sha1-only')
    assert.equal(github.verify(sha1Only, FIXTURE_SECRET), 'valid')
    const wrong256 = loadFixture('github-package-published', {
      headers: { 'x-hub-signature-256': 'sha256=00' },
    })
    assert.equal(
      github.verify(wrong256, FIXTURE_SECRET),
      'invalid',
      'a bad SHA-256 is not rescued by SHA-1',
    )
  })

  it('ignores events it does not act on, naming them', () => {
    const parse = github.parse(
      loadFixture('github-ping', { headers: { 'x-github-event': 'issues' } }),
    )
    assert.deepEqual(parse, {
      ok: false,
      ignored:
        'GitHub event "issues" is not one Deckhand acts on (ping, push, package, registry_package, workflow_run)',
    })
  })

  it('ignores a push that deletes a branch', () => {
    const parse = github.parse(
      editFixture('github-push-branch', (body) => {
        body.deleted = true
        body.after = '0000000000000000000000000000000000000000'
      }),
    )
    assert.deepEqual(parse, {
      ok: false,
      ignored: 'GitHub push deleted branch main; nothing to deploy',
    })
  })

  it('ignores a push to a ref that is neither branch nor tag', () => {
    const parse = github.parse(
      editFixture('github-push-branch', (body) => (body.ref = 'refs/notes/commits')),
    )
    assert.deepEqual(parse, {
      ok: false,
      ignored: 'GitHub push to "refs/notes/commits" is neither a branch nor a tag',
    })
  })

  it('answers invalid when a push has no ref', () => {
    const parse = github.parse(editFixture('github-push-branch', (body) => delete body.ref))
    assert.deepEqual(parse, { ok: false, invalid: 'a GitHub push must name its "ref"' })
  })

  it('lower-cases repository and image names', () => {
    const push = github.parse(
      editFixture('github-push-branch', (body) => (body.repository.full_name = 'Acme/Web')),
    )
    assert.ok(push.ok && push.event.repository === 'acme/web')
    const pkg = github.parse(
      editFixture('github-package-published', (body) => {
        body.package.package_version.package_url = 'ghcr.io/Acme/Web:1.6.0'
      }),
    )
    assert.ok(pkg.ok && pkg.event.image === 'acme/web')
  })

  it('collects changed files across commits once each', () => {
    const parse = github.parse(
      editFixture('github-push-branch', (body) => {
        body.commits.push({
          added: ['docs/a.md'],
          modified: ['src/checkout.ts'],
          removed: ['old.ts'],
        })
      }),
    )
    assert.ok(parse.ok)
    assert.deepEqual(parse.event.changedFiles, ['src/checkout.ts', 'docs/a.md', 'old.ts'])
  })

  it('ignores package versions that are not published, and packages that are not containers', () => {
    assert.deepEqual(
      reasonOf(
        github.parse(editFixture('github-package-published', (body) => (body.action = 'updated'))),
      ),
      'ignored: GitHub package "updated"; only published versions deploy',
    )
    assert.deepEqual(
      reasonOf(
        github.parse(
          editFixture('github-package-published', (body) => {
            body.package.package_type = 'npm'
            body.package.ecosystem = 'npm'
          }),
        ),
      ),
      'ignored: GitHub package "web" is a npm package, not a container image',
    )
  })

  it('names the image from namespace and name when there is no package URL', () => {
    const parse = github.parse(
      editFixture('github-registry-package', (body) => {
        delete body.registry_package.package_version.package_url
        body.registry_package.name = 'Web-API'
      }),
    )
    assert.ok(parse.ok && parse.event.image === 'acme/web-api')
  })

  it('ignores a workflow run that is not completed, and one from a fork', () => {
    assert.equal(
      reasonOf(
        github.parse(
          editFixture('github-workflow-run-success', (body) => (body.action = 'requested')),
        ),
      ),
      'ignored: GitHub workflow run "CI" is "requested"; only completed runs deploy',
    )
    assert.equal(
      reasonOf(
        github.parse(
          editFixture('github-workflow-run-success', (body) => {
            body.workflow_run.head_repository.full_name = 'mallory/web'
          }),
        ),
      ),
      'ignored: GitHub workflow run "CI" ran on mallory/web, a fork; only runs of the repository itself deploy',
    )
  })

  it('answers invalid when the event header is missing on a pinned GitHub trigger', () => {
    assert.equal(
      reasonOf(
        github.parse(
          loadFixture('github-push-branch', { headers: { 'x-github-event': undefined } }),
        ),
      ),
      'invalid: a GitHub delivery must name its event in X-GitHub-Event',
    )
  })
})

describe('GitLab', () => {
  const gitlab = sender('gitlab')

  it('compares the token exactly', () => {
    assert.equal(
      gitlab.verify(
        loadFixture('gitlab-push', { headers: { 'x-gitlab-token': 'fixture-secre' } }),
        FIXTURE_SECRET,
      ),
      'invalid',
    )
  })

  it('takes the delivery id from X-Gitlab-Event-UUID when there is no Idempotency-Key', () => {
    const parse = gitlab.parse(
      loadFixture('gitlab-push', { headers: { 'idempotency-key': undefined } }),
    )
    assert.ok(parse.ok && parse.event.deliveryId === '7b2c3d4e-0000-4000-8000-000000000002')
  })

  it('does not trust a truncated commit list for changed files', () => {
    const parse = gitlab.parse(
      editFixture('gitlab-push', (body) => (body.total_commits_count = 40)),
    )
    assert.ok(parse.ok && parse.event.changedFiles === undefined)
  })

  it('ignores a branch deletion, a merge request pipeline and other events', () => {
    assert.equal(
      reasonOf(
        gitlab.parse(
          editFixture('gitlab-push', (body) => {
            body.after = '0000000000000000000000000000000000000000'
            body.checkout_sha = null
          }),
        ),
      ),
      'ignored: GitLab Push Hook deleted branch main; nothing to deploy',
    )
    assert.equal(
      reasonOf(
        gitlab.parse(
          editFixture('gitlab-pipeline-success', (body) => (body.merge_request = { iid: 7 })),
        ),
      ),
      'ignored: GitLab pipeline 31337 ran for a merge request; only branch and tag pipelines deploy',
    )
    assert.equal(
      reasonOf(
        gitlab.parse(loadFixture('gitlab-push', { headers: { 'x-gitlab-event': 'Issue Hook' } })),
      ),
      'ignored: GitLab event "Issue Hook" is not one Deckhand acts on (Push Hook, Tag Push Hook, Pipeline Hook)',
    )
  })

  it('reads a tag pipeline as a tag', () => {
    const parse = gitlab.parse(
      editFixture('gitlab-pipeline-success', (body) => {
        body.object_attributes.ref = 'v1.5.0'
        body.object_attributes.tag = true
      }),
    )
    assert.ok(parse.ok)
    assert.equal(parse.event.tag, 'v1.5.0')
    assert.equal(parse.event.branch, undefined)
  })

  it('reads a push delivered as a System Hook by its object_kind', () => {
    const parse = gitlab.parse(
      loadFixture('gitlab-push', { headers: { 'x-gitlab-event': 'System Hook' } }),
    )
    assert.ok(parse.ok && parse.event.branch === 'main')
  })
})

describe('Bitbucket', () => {
  const bitbucket = sender('bitbucket')

  it('ignores other event keys and a deleted branch', () => {
    assert.equal(
      reasonOf(
        bitbucket.parse(
          loadFixture('bitbucket-push', { headers: { 'x-event-key': 'pullrequest:created' } }),
        ),
      ),
      'ignored: Bitbucket event "pullrequest:created" is not one Deckhand acts on (repo:push)',
    )
    assert.equal(
      reasonOf(
        bitbucket.parse(editFixture('bitbucket-push', (body) => (body.push.changes[0].new = null))),
      ),
      'ignored: Bitbucket push deleted "main"; nothing to deploy',
    )
  })

  it('reads the last of several changes', () => {
    const parse = bitbucket.parse(
      editFixture('bitbucket-push', (body) => {
        body.push.changes.push({
          new: { type: 'branch', name: 'release', target: { hash: 'abc123' } },
        })
      }),
    )
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
      reasonOf(
        gitea.parse(loadFixture('forgejo-push', { headers: { 'x-forgejo-event': 'release' } })),
      ),
      'ignored: Forgejo event "release" is not one Deckhand acts on (push)',
    )
  })
})
