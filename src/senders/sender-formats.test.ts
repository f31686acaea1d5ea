// What each sender makes of bodies and headers that are not its happy path.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { editFixture, FIXTURE_SECRET, loadFixture } from '../../test/fixtures/senders/load.ts'
import type { SenderParse, SenderRequest } from './sender.ts'
import { recogniseSender, senderById, senderFor, SENDERS } from './sender-registry.ts'

function sender(id: string) {
  const found = senderById(id)
  assert.ok(found, `sender ${id} exists`)
  return found
}

function request(
  headers: Record<string, string>,
  body: string | object,
  query = {},
): SenderRequest {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  return { headers, body: Buffer.from(text), query }
}

const reasonOf = (parse: SenderParse): string =>
  'ignored' in parse
    ? `ignored: ${parse.ignored}`
    : 'invalid' in parse
      ? `invalid: ${parse.invalid}`
      : 'ok'

describe('sender registry', () => {
  it('lists every sender id of the model but auto, generic last', () => {
    assert.deepEqual(SENDERS.map((s) => s.id).sort(), [
      'acr',
      'alertmanager',
      'bitbucket',
      'dockerhub',
      'generic',
      'gitea',
      'github',
      'gitlab',
      'harbor',
      'quay',
      'registry',
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
    assert.equal(
      recogniseSender(request({ 'content-type': 'application/json' }, { hello: 'world' })).id,
      'generic',
    )
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
    const parse = sender('github').parse(
      loadFixture('github-push-branch', { body: Buffer.from([0x7b, 0xff, 0x7d]) }),
    )
    assert.deepEqual(parse, {
      ok: false,
      invalid: 'a GitHub push must be JSON: the body is not valid UTF-8',
    })
  })
})

describe('Alertmanager', () => {
  const alertmanager = sender('alertmanager')

  it('is not recognised for other webhook versions, and answers invalid when pinned', () => {
    const request = editFixture('alertmanager-firing', (body) => (body.version = '3'))
    assert.notEqual(recogniseSender(request).id, 'alertmanager')
    assert.equal(
      reasonOf(alertmanager.parse(request)),
      'invalid: an Alertmanager notification must be webhook version "4", found "3"',
    )
  })

  it('answers invalid for an unknown group status', () => {
    assert.equal(
      reasonOf(
        alertmanager.parse(editFixture('alertmanager-firing', (body) => (body.status = 'pending'))),
      ),
      'invalid: an Alertmanager notification must have status "firing" or "resolved"',
    )
  })

  it('accepts basic auth with the secret as password', () => {
    const basic = `Basic ${Buffer.from(`alertmanager:${FIXTURE_SECRET}`).toString('base64')}`
    assert.equal(
      alertmanager.verify(
        loadFixture('alertmanager-firing', { headers: { authorization: basic } }),
        FIXTURE_SECRET,
      ),
      'valid',
    )
  })
})

describe('registries', () => {
  it('ignore pushes by digest and events other than push', () => {
    assert.equal(
      reasonOf(
        sender('harbor').parse(
          editFixture('harbor-push-artifact', (body) => delete body.event_data.resources[0].tag),
        ),
      ),
      'ignored: Harbor push to acme/web has no tag (pushed by digest); nothing to deploy',
    )
    assert.equal(
      reasonOf(
        sender('harbor').parse(
          editFixture('harbor-push-artifact', (body) => (body.type = 'PULL_ARTIFACT')),
        ),
      ),
      'ignored: Harbor event "PULL_ARTIFACT" is not one Deckhand acts on (PUSH_ARTIFACT)',
    )
    assert.equal(
      reasonOf(sender('acr').parse(editFixture('acr-push', (body) => delete body.target.tag))),
      'ignored: Azure Container Registry push to web has no tag (pushed by digest); nothing to deploy',
    )
    assert.equal(
      reasonOf(sender('acr').parse(editFixture('acr-push', (body) => (body.action = 'delete')))),
      'ignored: Azure Container Registry event "delete" is not one Deckhand acts on (push)',
    )
    assert.equal(
      reasonOf(sender('quay').parse(editFixture('quay-push', (body) => (body.updated_tags = [])))),
      'ignored: Quay push to acme/web updated no tag; nothing to deploy',
    )
    assert.equal(
      reasonOf(
        sender('dockerhub').parse(
          editFixture('dockerhub-push', (body) => delete body.push_data.tag),
        ),
      ),
      'ignored: Docker Hub push to acme/web names no tag; nothing to deploy',
    )
  })

  it('Quay takes the highest semver tag of a push, else the first', () => {
    const pick = (tags: string[]) => {
      const parse = sender('quay').parse(
        editFixture('quay-push', (body) => (body.updated_tags = tags)),
      )
      return parse.ok ? parse.event.tag : reasonOf(parse)
    }
    assert.equal(pick(['latest', '1.5.0', '1.10.0', '1.9.9']), '1.10.0')
    assert.equal(pick(['latest', 'edge']), 'latest')
  })

  it('Docker Hub passes any URL on as the callback (the outgoing policy refuses and logs), and drops text that is no URL', () => {
    const parse = (url: string) =>
      sender('dockerhub').parse(editFixture('dockerhub-push', (body) => (body.callback_url = url)))
    const file = parse('file:///etc/passwd')
    assert.ok(file.ok && file.event.callbackUrl === 'file:///etc/passwd')
    const text = parse('not a url')
    assert.ok(text.ok && text.event.callbackUrl === undefined)
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

describe('a body that starts with a UTF-8 byte order mark', () => {
  it('is recognised and parsed like the same body without the mark (regression)', () => {
    const plain = loadFixture('dockerhub-push')
    const marked = {
      ...plain,
      body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), plain.body as Buffer]),
    }
    assert.equal(recogniseSender(marked).id, 'dockerhub')
    assert.deepEqual(sender('dockerhub').parse(marked), sender('dockerhub').parse(plain))
  })
})
