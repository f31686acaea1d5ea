// Every tag policy against major, minor, patch, pre-release, non-semver and same tags.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { compareSemver, parseSemver } from './semver-policy.ts'
import type { TagPolicy } from './tag-policy.ts'
import { parseTagPolicy, refuseTag, tagPolicyOf } from './tag-policy.ts'

function policy(text: string): TagPolicy {
  const parsed = parseTagPolicy(text)
  assert.ok(parsed.ok, `${text} parses`)
  return parsed.policy
}

/** `true` when allowed, else the exact reason. */
function decide(text: string, current: string | null, candidate: string): true | string {
  const decision = policy(text).allows(current, candidate)
  return decision.ok ? true : decision.reason
}

const CURRENT = '1.4.2'

// Columns: the candidate tag against current 1.4.2, and what each policy answers.
const TABLE: Array<{ candidate: string; expect: Record<string, true | string> }> = [
  {
    candidate: '2.0.0',
    expect: {
      all: true,
      force: 'tag 2.0.0 is not the running tag 1.4.2; policy force only re-pulls the running tag',
      'semver-major': true,
      'semver-minor': 'tag 2.0.0 is a major bump from 1.4.2; policy semver-minor',
      'semver-patch': 'tag 2.0.0 is a major bump from 1.4.2; policy semver-patch',
      'glob:1.*': 'tag 2.0.0 does not match glob:1.*',
      'regexp:1\\.\\d+\\.\\d+': 'tag 2.0.0 does not match regexp:1\\.\\d+\\.\\d+',
    },
  },
  {
    candidate: '1.5.0',
    expect: {
      all: true,
      force: 'tag 1.5.0 is not the running tag 1.4.2; policy force only re-pulls the running tag',
      'semver-major': true,
      'semver-minor': true,
      'semver-patch': 'tag 1.5.0 is a minor bump from 1.4.2; policy semver-patch',
      'glob:1.*': true,
      'regexp:1\\.\\d+\\.\\d+': true,
    },
  },
  {
    candidate: '1.4.3',
    expect: {
      all: true,
      force: 'tag 1.4.3 is not the running tag 1.4.2; policy force only re-pulls the running tag',
      'semver-major': true,
      'semver-minor': true,
      'semver-patch': true,
      'glob:1.*': true,
      'regexp:1\\.\\d+\\.\\d+': true,
    },
  },
  {
    candidate: '1.5.0-rc.1',
    expect: {
      all: true,
      force:
        'tag 1.5.0-rc.1 is not the running tag 1.4.2; policy force only re-pulls the running tag',
      'semver-major': 'tag 1.5.0-rc.1 is a pre-release and 1.4.2 is not; policy semver-major',
      'semver-minor': 'tag 1.5.0-rc.1 is a pre-release and 1.4.2 is not; policy semver-minor',
      'semver-patch': 'tag 1.5.0-rc.1 is a pre-release and 1.4.2 is not; policy semver-patch',
      'glob:1.*': true,
      'regexp:1\\.\\d+\\.\\d+': 'tag 1.5.0-rc.1 does not match regexp:1\\.\\d+\\.\\d+',
    },
  },
  {
    candidate: 'latest',
    expect: {
      all: true,
      force: 'tag latest is not the running tag 1.4.2; policy force only re-pulls the running tag',
      'semver-major':
        'tag latest is not a semantic version (major.minor.patch with an optional v, pre-release and build); policy semver-major',
      'semver-minor':
        'tag latest is not a semantic version (major.minor.patch with an optional v, pre-release and build); policy semver-minor',
      'semver-patch':
        'tag latest is not a semantic version (major.minor.patch with an optional v, pre-release and build); policy semver-patch',
      'glob:1.*': 'tag latest does not match glob:1.*',
      'regexp:1\\.\\d+\\.\\d+': 'tag latest does not match regexp:1\\.\\d+\\.\\d+',
    },
  },
  {
    candidate: '1.4.2',
    expect: {
      all: true,
      force: true,
      'semver-major': 'tag 1.4.2 is the same version as 1.4.2; policy semver-major',
      'semver-minor': 'tag 1.4.2 is the same version as 1.4.2; policy semver-minor',
      'semver-patch': 'tag 1.4.2 is the same version as 1.4.2; policy semver-patch',
      'glob:1.*': true,
      'regexp:1\\.\\d+\\.\\d+': true,
    },
  },
  {
    candidate: '1.4.1',
    expect: {
      all: true,
      force: 'tag 1.4.1 is not the running tag 1.4.2; policy force only re-pulls the running tag',
      'semver-major': 'tag 1.4.1 is lower than 1.4.2; policy semver-major',
      'semver-minor': 'tag 1.4.1 is lower than 1.4.2; policy semver-minor',
      'semver-patch': 'tag 1.4.1 is lower than 1.4.2; policy semver-patch',
      'glob:1.*': true,
      'regexp:1\\.\\d+\\.\\d+': true,
    },
  },
]

describe(`every policy against current ${CURRENT}`, () => {
  for (const { candidate, expect } of TABLE) {
    for (const [text, expected] of Object.entries(expect)) {
      it(`${text} ${expected === true ? 'takes' : 'refuses'} ${candidate}`, () => {
        assert.equal(decide(text, CURRENT, candidate), expected)
      })
    }
  }
})

describe('semver pre-releases', () => {
  it('moves a release candidate on to a later one and to its release, within every scope', () => {
    for (const scope of ['semver-major', 'semver-minor', 'semver-patch']) {
      assert.equal(decide(scope, '2.0.0-rc.1', '2.0.0-rc.2'), true)
      assert.equal(decide(scope, '2.0.0-rc.2', '2.0.0'), true)
      assert.equal(
        decide(scope, '2.0.0-rc.9', '2.0.0-rc.10'),
        true,
        'numeric identifiers compare as numbers',
      )
    }
  })

  it('keeps a variant written as a pre-release on its variant, as Keel does', () => {
    assert.equal(decide('semver-minor', '1.25.3-alpine', '1.25.4-alpine'), true)
    assert.equal(
      decide('semver-minor', '1.25.3-alpine', '1.26.0'),
      'tag 1.26.0 is a release and 1.25.3-alpine is a pre-release (alpine) of another version; policy semver-minor',
    )
    assert.equal(
      decide('semver-minor', '1.25.3-alpine', '1.26.0-bookworm'),
      'tag 1.26.0-bookworm is pre-release bookworm and 1.25.3-alpine is pre-release alpine; policy semver-minor',
    )
  })

  it('refuses a pre-release lower than the running release of the same version', () => {
    assert.equal(
      decide('semver-major', '2.0.0', '2.0.0-rc.3'),
      'tag 2.0.0-rc.3 is lower than 2.0.0; policy semver-major',
    )
  })

  it('takes any semver when the running tag is unknown or not semver, and refuses non-semver still', () => {
    for (const current of [null, 'latest', 'main-abc1234']) {
      assert.equal(decide('semver-patch', current, '3.1.4'), true)
      assert.equal(decide('semver-patch', current, '3.1.4-beta.1'), true)
      assert.equal(
        decide('semver-patch', current, '3.1'),
        'tag 3.1 is not a semantic version (major.minor.patch with an optional v, pre-release and build); policy semver-patch',
      )
    }
  })

  it('reads a leading v on either side', () => {
    assert.equal(decide('semver-minor', 'v1.4.2', '1.5.0'), true)
    assert.equal(
      decide('semver-minor', '1.4.2', 'v2.0.0'),
      'tag v2.0.0 is a major bump from 1.4.2; policy semver-minor',
    )
  })
})

describe('semver parsing', () => {
  it('parses core, pre-release and build, and refuses what semver.org refuses', () => {
    assert.deepEqual(parseSemver('v1.2.3-rc.1+build.5'), {
      major: 1,
      minor: 2,
      patch: 3,
      prerelease: ['rc', '1'],
      build: ['build', '5'],
    })
    for (const text of [
      '1.2',
      '01.2.3',
      '1.2.3-',
      '1.2.3-01',
      'V1.2.3x',
      '',
      '1.2.3.4',
      `1.2.${'9'.repeat(20)}`,
    ]) {
      assert.equal(parseSemver(text), undefined, text)
    }
  })

  it('orders by semver.org precedence, ignoring build', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
    ]
    for (let i = 1; i < ordered.length; i++) {
      const lower = parseSemver(ordered[i - 1] ?? '')
      const higher = parseSemver(ordered[i] ?? '')
      assert.ok(lower && higher)
      assert.equal(compareSemver(lower, higher), -1, `${ordered[i - 1]} < ${ordered[i]}`)
      assert.equal(compareSemver(higher, lower), 1)
    }
    const a = parseSemver('1.0.0+a')
    const b = parseSemver('1.0.0+b')
    assert.ok(a && b)
    assert.equal(compareSemver(a, b), 0)
  })
})

describe('force', () => {
  it('treats an unknown running tag as latest, what an untagged image reference means', () => {
    assert.equal(decide('force', null, 'latest'), true)
    assert.equal(
      decide('force', null, '1.5.0'),
      'tag 1.5.0 is not the running tag latest (no tag known, so latest); policy force only re-pulls the running tag',
    )
  })
})

describe('glob', () => {
  it('matches the whole tag with * and ?', () => {
    assert.equal(decide('glob:release-*', null, 'release-2026.11'), true)
    assert.equal(
      decide('glob:release-*', null, 'pre-release-1'),
      'tag pre-release-1 does not match glob:release-*',
    )
    assert.equal(decide('glob:v?.?', null, 'v1.2'), true)
    assert.equal(decide('glob:v?.?', null, 'v1.22'), 'tag v1.22 does not match glob:v?.?')
    assert.equal(decide('glob:*-alpine', null, '1.25.3-alpine'), true)
    assert.equal(decide('glob:*', null, 'anything'), true)
    assert.equal(decide('glob:a*b*c', null, 'aXbYbZc'), true)
    assert.equal(
      decide('glob:1.0', null, '1x0'),
      'tag 1x0 does not match glob:1.0',
      'a dot is literal',
    )
  })

  it('stays fast on patterns that make backtracking matchers exponential', () => {
    const started = performance.now()
    assert.notEqual(decide(`glob:${'*a'.repeat(60)}b`, null, 'a'.repeat(128)), true)
    assert.ok(performance.now() - started < 100)
  })
})

describe('regexp', () => {
  it('matches the whole tag, not a part of it', () => {
    assert.equal(decide('regexp:v1', null, 'v10-broken'), 'tag v10-broken does not match regexp:v1')
    assert.equal(decide('regexp:v1|v2', null, 'v2'), true)
    assert.equal(decide('regexp:v1|v2', null, 'v1x'), 'tag v1x does not match regexp:v1|v2')
    assert.equal(decide('regexp:^v?\\d+\\.\\d+\\.\\d+(-rc\\.\\d+)?$', null, 'v1.2.3-rc.4'), true)
    assert.equal(decide('regexp:(main|develop)-[0-9a-f]{7}', null, 'main-abc1234'), true)
  })

  it('matches nested and side-by-side repetition in linear time', () => {
    // Each of these took seconds to minutes on a backtracking engine against a crafted tag.
    const tag = `${'a'.repeat(127)}!`
    for (const expression of [
      '(a+)+$',
      '(a*)*',
      '(a|aa)+',
      '(\\w+\\s?)*',
      '((ab)*)+',
      '(a{1,5}){2,}',
      '.*.*.*.*.*x',
      'a*a*a*a*a*a*x',
      `${'a?'.repeat(16)}${'a*'.repeat(4)}`,
    ]) {
      const started = performance.now()
      assert.notEqual(decide(`regexp:${expression}`, null, tag), true, expression)
      assert.ok(performance.now() - started < 100, expression)
    }
    assert.equal(decide('regexp:(a+)+', null, 'aaaa'), true)
  })

  it('refuses at parse time what the linear-time engine cannot run', () => {
    for (const expression of ['(a)\\1', 'v(?=1)', '(?<!x)y']) {
      const parsed = parseTagPolicy(`regexp:${expression}`)
      assert.ok(!parsed.ok && parsed.error.includes('linear-time RE2 engine'), expression)
    }
  })

  it('keeps bounded and single-level repetition', () => {
    for (const expression of [
      '(-rc\\.\\d+)?',
      '[a-z]+-\\d+',
      '(ab){2}',
      '(?:x|y)?z*',
      '[(]+a',
      '[0-9a-f]{7}',
      'a*?b',
      '[*+?]{1}',
    ]) {
      assert.ok(parseTagPolicy(`regexp:${expression}`).ok, expression)
    }
  })
})

describe('parseTagPolicy', () => {
  it('names the unknown policy and the ones it knows', () => {
    assert.deepEqual(parseTagPolicy('x'), {
      ok: false,
      error:
        'unknown tag policy "x": expected all, force, semver-major, semver-minor, semver-patch, glob:<pattern> or regexp:<expression>',
    })
    for (const text of ['', 'semver', 'ALL', 'glob', 'semver-minor2']) {
      assert.equal(parseTagPolicy(text).ok, false, text)
    }
  })

  it('refuses empty patterns, invalid and overlong expressions', () => {
    assert.deepEqual(parseTagPolicy('glob:'), {
      ok: false,
      error: 'tag policy "glob:" needs a pattern, e.g. glob:release-*',
    })
    const invalid = parseTagPolicy('regexp:(')
    assert.ok(
      !invalid.ok &&
        invalid.error.startsWith(
          'tag policy "regexp:(" is not a valid regular expression for the linear-time RE2 engine',
        ),
    )
    assert.equal(parseTagPolicy(`regexp:${'a'.repeat(201)}`).ok, false)
    assert.equal(parseTagPolicy('regexp:').ok, false)
  })

  it('keeps the policy text, trimmed', () => {
    assert.equal(policy(' semver-minor ').text, 'semver-minor')
    assert.equal(policy('glob:release-*').text, 'glob:release-*')
  })

  it('makes every policy refuse a tag no image can carry', () => {
    for (const text of ['all', 'force', 'semver-major', 'glob:*', 'regexp:.*']) {
      for (const bad of ['', '-rc', '.hidden', 'a/b', 'a:b', 'x'.repeat(129), 'tag with space']) {
        const decision = policy(text).allows(bad, bad)
        assert.ok(
          !decision.ok && decision.reason.includes('is not a valid image tag'),
          `${text} ${bad}`,
        )
      }
    }
  })
})

describe('tag policies on the call path', () => {
  it('are parsed once per text: each call of a service reuses the policy and its regexp', () => {
    const first = tagPolicyOf('regexp:^release-[0-9]+$')
    assert.equal(tagPolicyOf('regexp:^release-[0-9]+$'), first)
    assert.notEqual(tagPolicyOf('regexp:^release-[0-9]+\\.[0-9]+$'), first)
    assert.equal(tagPolicyOf('glob:('), tagPolicyOf('glob:('), 'a refusal is remembered as well')
  })

  it("refuseTag answers the policy's reason, the parse error, or nothing when allowed", () => {
    assert.equal(refuseTag({ tagPolicy: 'semver-minor', tag: '1.4.0' }, '1.5.0'), undefined)
    assert.match(refuseTag({ tagPolicy: 'semver-minor', tag: '1.4.0' }, '2.0.0') ?? '', /major/)
    const unknown = refuseTag({ tagPolicy: 'nope', tag: null }, 'v1')
    assert.match(unknown ?? '', /^unknown tag policy "nope"/)
  })
})
