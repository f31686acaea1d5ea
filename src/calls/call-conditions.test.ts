import assert from 'node:assert/strict'
import { test } from 'node:test'

import type { CallMatch } from '../model/index.ts'
import type { SenderRequest } from '../senders/sender.ts'
import { MATCH_LIMITS, parseBodyPath } from '../specs/call-match-spec.ts'
import { formatProblems } from '../specs/problems.ts'
import { parseTriggerSpec } from '../specs/trigger-spec.ts'
import { unmetCondition } from './call-conditions.ts'

const PREFIX = 'the call does not match the trigger: '

function call(options: {
  headers?: Record<string, string>
  query?: Record<string, string>
  body?: string
  type?: string
}): SenderRequest {
  const headers = { ...options.headers, ...(options.type ? { 'content-type': options.type } : {}) }
  return { headers, query: options.query ?? {}, body: Buffer.from(options.body ?? '') }
}

/** The stored match, as parseTriggerSpec makes it; throws on problems so a table row cannot hide one. */
function stored(match: unknown): CallMatch {
  const parsed = parseTriggerSpec({ action: 'redeploy', match })
  if (!parsed.ok) {
    throw new Error(formatProblems(parsed.problems))
  }
  return parsed.value.match!
}

const json = (value: unknown): { body: string; type: string } => ({
  body: JSON.stringify(value),
  type: 'application/json',
})
const push = json({
  ref: 'refs/heads/main',
  commits: [{ id: 'abc', added: ['a'] }],
  n: 5,
  ok: true,
  none: null,
  nested: { a: 1 },
})

const operatorCases: { name: string; match: unknown; request: SenderRequest; reason?: string }[] = [
  {
    name: 'header equals (name case-insensitive)',
    match: { header: 'X-Event', equals: 'push' },
    request: call({ headers: { 'x-event': 'push' } }),
  },
  {
    name: 'header equals, a different value',
    match: { header: 'x-event', equals: 'push' },
    request: call({ headers: { 'x-event': 'ping' } }),
    reason: 'match: wanted header x-event equals "push"; the call\'s value differs',
  },
  {
    name: 'header equals, absent',
    match: { header: 'x-event', equals: 'push' },
    request: call({}),
    reason: 'match: wanted header x-event equals "push"; the call has no header x-event',
  },
  {
    name: 'query in',
    match: { query: 'env', in: ['prod', 'staging'] },
    request: call({ query: { env: 'staging' } }),
  },
  {
    name: 'query in, none of them',
    match: { query: 'env', in: ['prod', 'staging'] },
    request: call({ query: { env: 'dev' } }),
    reason: 'match: wanted query env in ["prod","staging"]; the call\'s value is none of them',
  },
  {
    name: 'body equals on a JSON path',
    match: { body: 'ref', equals: 'refs/heads/main' },
    request: call(push),
  },
  {
    name: 'body equals through an index',
    match: { body: 'commits[0].added[0]', equals: 'a' },
    request: call(push),
  },
  {
    name: 'body equals compares as text: 5 and "5"',
    match: { body: 'n', equals: '5' },
    request: call(push),
  },
  {
    name: 'body equals true and null',
    match: {
      all: [
        { body: 'ok', equals: true },
        { body: 'none', equals: null },
      ],
    },
    request: call(push),
  },
  {
    name: 'body equals on an object',
    match: { body: 'nested', equals: 'x' },
    request: call(push),
    reason: 'match: wanted body nested equals "x"; body nested is an object, not a single value',
  },
  {
    name: 'body equals on a list',
    match: { body: 'commits', equals: 'x' },
    request: call(push),
    reason: 'match: wanted body commits equals "x"; body commits is a list, not a single value',
  },
  {
    name: 'body path past the end of a list',
    match: { body: 'commits[3].id', exists: true },
    request: call(push),
    reason: 'match: wanted body commits[3].id to exist; the call has none',
  },
  {
    name: 'body path never reaches the prototype',
    match: { body: 'ref.constructor', exists: true },
    request: call(push),
    reason: 'match: wanted body ref.constructor to exist; the call has none',
  },
  {
    name: 'body regex (unanchored)',
    match: { body: 'ref', regex: 'heads/ma' },
    request: call(push),
  },
  {
    name: 'body regex anchored, no match',
    match: { body: 'ref', regex: '^main$' },
    request: call(push),
    reason: 'match: wanted body ref matching "^main$"; the call\'s value does not match',
  },
  {
    name: 'regex with RE2 flags',
    match: { header: 'x-event', regex: '(?i)^PUSH$' },
    request: call({ headers: { 'x-event': 'push' } }),
  },
  {
    name: 'exists true',
    match: { header: 'x-gitlab-token', exists: true },
    request: call({ headers: { 'x-gitlab-token': 't' } }),
  },
  {
    name: 'exists false, present',
    match: { query: 'debug', exists: false },
    request: call({ query: { debug: '1' } }),
    reason: 'match: wanted no query debug; the call has one',
  },
  { name: 'exists false, absent', match: { query: 'debug', exists: false }, request: call({}) },
  {
    name: 'a form field',
    match: { body: 'env', equals: 'prod' },
    request: call({ body: 'env=prod&tag=1', type: 'application/x-www-form-urlencoded' }),
  },
  {
    name: 'a repeated form field by index',
    match: { body: 'env[1]', equals: 'b' },
    request: call({ body: 'env=a&env=b', type: 'application/x-www-form-urlencoded' }),
  },
  {
    name: 'a JSON payload inside a form field',
    match: { body: 'payload.ref', equals: 'refs/heads/main' },
    request: call({
      body: `payload=${encodeURIComponent(push.body)}`,
      type: 'application/x-www-form-urlencoded',
    }),
  },
  {
    name: 'a JSON body sent with a form type (curl -d)',
    match: { body: 'ref', equals: 'refs/heads/main' },
    request: call({ body: push.body, type: 'application/x-www-form-urlencoded' }),
  },
  {
    name: 'a text body has no paths',
    match: { body: 'ref', exists: true },
    request: call({ body: 'ref=x', type: 'text/plain' }),
    reason: 'match: wanted body ref to exist; the call has none',
  },
  {
    name: 'a top-level JSON list',
    match: { body: '[1].id', equals: 'b' },
    request: call(json([{ id: 'a' }, { id: 'b' }])),
  },
]

for (const c of operatorCases) {
  test(`call conditions: ${c.name}`, () => {
    assert.equal(
      unmetCondition(stored(c.match), c.request),
      c.reason === undefined ? undefined : PREFIX + c.reason,
    )
  })
}

test('all names its first failing entry; any names the first when none holds; not names what held', () => {
  const request = call({ headers: { 'x-event': 'push' }, query: { env: 'dev' } })
  const all = stored({
    all: [
      { header: 'x-event', equals: 'push' },
      { query: 'env', equals: 'prod' },
      { query: 'x', exists: true },
    ],
  })
  assert.equal(
    unmetCondition(all, request),
    `${PREFIX}match.all[1]: wanted query env equals "prod"; the call's value differs`,
  )
  const any = stored({
    any: [
      { query: 'env', equals: 'prod' },
      { query: 'env', equals: 'staging' },
    ],
  })
  assert.equal(
    unmetCondition(any, request),
    `${PREFIX}match.any: none of its 2 entries held; the first: match.any[0]: wanted query env equals "prod"; the call's value differs`,
  )
  assert.equal(
    unmetCondition(
      stored({
        any: [
          { query: 'env', equals: 'prod' },
          { query: 'env', equals: 'dev' },
        ],
      }),
      request,
    ),
    undefined,
  )
  const not = stored({ not: { header: 'x-event', in: ['push', 'tag'] } })
  assert.equal(
    unmetCondition(not, request),
    `${PREFIX}match.not: the call has header x-event in ["push","tag"]`,
  )
  assert.equal(
    unmetCondition(stored({ not: { all: [{ query: 'env', equals: 'dev' }] } }), request),
    `${PREFIX}match.not: the group it names held`,
  )
  const nested = stored({ all: [{ any: [{ not: { query: 'env', equals: 'dev' } }] }] })
  assert.match(
    unmetCondition(nested, request)!,
    /^the call does not match the trigger: match\.all\[0\]\.any: none of its 1 entries held; the first: match\.all\[0\]\.any\[0\]\.not: /,
  )
  assert.equal(
    unmetCondition(
      stored({
        all: [{ header: 'x-event', equals: 'push' }],
        not: { query: 'env', equals: 'prod' },
      }),
      request,
    ),
    undefined,
  )
})

test("a reason quotes the condition, never the call's value, and cuts a long expected value", () => {
  const reason = unmetCondition(
    stored({ header: 'authorization', equals: 'x'.repeat(300) }),
    call({ headers: { authorization: 'Bearer caller-secret' } }),
  )!
  assert.ok(!reason.includes('caller-secret'))
  assert.ok(reason.length < 250, reason)
  assert.match(reason, /x…; the call's value differs$/)
})

test('no match, or null, lets every call through', () => {
  assert.equal(unmetCondition(undefined, call({})), undefined)
  assert.equal(unmetCondition(null, call({})), undefined)
  const parsed = parseTriggerSpec({ action: 'redeploy' })
  assert.equal(parsed.ok && parsed.value.match, null)
})

const deep = (levels: number): unknown =>
  levels === 0 ? { query: 'a', exists: true } : { all: [deep(levels - 1)] }

const refusals: { name: string; match: unknown; problem: RegExp }[] = [
  { name: 'not an object', match: 'ref=main', problem: /^match: must be an object/ },
  {
    name: 'an unknown field',
    match: { header: 'x', equal: 'y' },
    problem: /^match\.equal: is not a match field/,
  },
  {
    name: 'two sources',
    match: { header: 'x', query: 'y', exists: true },
    problem: /^match: a condition names one of header, query, body and one of/,
  },
  { name: 'no operator', match: { header: 'x' }, problem: /^match: a condition names one of/ },
  {
    name: 'a group mixed with a condition',
    match: { all: [{ query: 'a', exists: true }], header: 'x' },
    problem: /^match: mixes a group/,
  },
  { name: 'an empty all', match: { all: [] }, problem: /^match\.all: must be a list of 1 to 32/ },
  { name: 'too deep', match: deep(MATCH_LIMITS.depth), problem: /nests deeper than 8 levels/ },
  {
    name: 'too many conditions',
    match: {
      all: Array.from({ length: 32 }, () => ({
        any: [
          { query: 'a', exists: true },
          { query: 'b', exists: true },
        ],
      })),
    },
    problem: /^match\.all\[16\]\.any\[0\]: is condition 33; a match holds at most 32/,
  },
  {
    name: 'a bad header name',
    match: { header: 'x event', exists: true },
    problem: /^match\.header: must be a header name/,
  },
  {
    name: 'a long query name',
    match: { query: 'q'.repeat(129), exists: true },
    problem: /^match\.query: must be at most 128 characters/,
  },
  {
    name: 'a body path with an empty step',
    match: { body: 'a..b', exists: true },
    problem: /^match\.body: must be a path/,
  },
  {
    name: 'a long body path',
    match: { body: 'a.'.repeat(128) + 'b', exists: true },
    problem: /^match\.body: must be a path/,
  },
  {
    name: 'too many path steps',
    match: { body: Array.from({ length: 33 }, () => 'a').join('.'), exists: true },
    problem: /^match\.body: must be a path .* 32 steps/,
  },
  {
    name: 'a long equals value',
    match: { query: 'a', equals: 'v'.repeat(1025) },
    problem: /^match\.equals: is 1025 characters long; at most 1024/,
  },
  {
    name: 'an object as equals value',
    match: { query: 'a', equals: { x: 1 } },
    problem: /^match\.equals: must be a string, number, true, false or null/,
  },
  {
    name: 'too many in values',
    match: { query: 'a', in: Array.from({ length: 65 }, (_, i) => i) },
    problem: /^match\.in: must be a list of 1 to 64 values/,
  },
  {
    name: 'a bad in value',
    match: { query: 'a', in: ['ok', ['no']] },
    problem: /^match\.in\[1\]: must be a string/,
  },
  {
    name: 'a long regex',
    match: { query: 'a', regex: 'a'.repeat(201) },
    problem: /^match\.regex: must be a regular expression of 1 to 200 characters/,
  },
  {
    name: 'a back-reference',
    match: { all: [{ query: 'a', regex: '(a)\\1' }] },
    problem:
      /^match\.all\[0\]\.regex: is not a valid regular expression for the linear-time RE2 engine/,
  },
  {
    name: 'a look-ahead',
    match: { query: 'a', regex: 'a(?=b)' },
    problem: /^match\.regex: is not a valid regular expression/,
  },
  {
    name: 'exists not a boolean',
    match: { query: 'a', exists: 'yes' },
    problem: /^match\.exists: must be true/,
  },
]

for (const r of refusals) {
  test(`a match is refused at creation: ${r.name}`, () => {
    const parsed = parseTriggerSpec({ action: 'redeploy', match: r.match })
    assert.equal(parsed.ok, false)
    assert.match(formatProblems(parsed.ok ? [] : parsed.problems), r.problem)
  })
}

test('the deepest and largest match allowed is accepted', () => {
  assert.doesNotThrow(() => stored(deep(MATCH_LIMITS.depth - 1)))
  assert.doesNotThrow(() =>
    stored({
      any: Array.from({ length: 32 }, (_, i) => ({
        body: `a[${i}].b`,
        in: Array.from({ length: 64 }, () => 'v'.repeat(1024)),
      })),
    }),
  )
})

test('body paths: keys, indexes and what is not a path', () => {
  assert.deepEqual(parseBodyPath('push.changes[0].new.name'), [
    { key: 'push' },
    { key: 'changes' },
    { index: 0 },
    { key: 'new' },
    { key: 'name' },
  ])
  assert.deepEqual(parseBodyPath('[2]'), [{ index: 2 }])
  for (const bad of ['', '.a', 'a.', 'a..b', 'a[0]b', 'a.[0]', 'a[x]', 'a[1234567]', 'a]']) {
    assert.equal(parseBodyPath(bad), undefined, bad)
  }
})
