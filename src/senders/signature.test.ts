// The constant-time helpers accept exactly the right secret or signature, whatever the length.
import assert from 'node:assert/strict'
import { it } from 'node:test'

import {
  checkAuthorization,
  checkHmacHeader,
  checkSecretHeader,
  hmacHex,
  safeEqual,
} from './signature.ts'

const body = Buffer.from('{"a":1}')
const sign = (algorithm: 'sha256' | 'sha1') => hmacHex(algorithm, 's3cr3t', body)

it('safeEqual compares content, and strings of different lengths are simply unequal', () => {
  assert.equal(safeEqual('abc', 'abc'), true)
  assert.equal(safeEqual('abc', 'abd'), false)
  assert.equal(safeEqual('abc', 'abcd'), false)
  assert.equal(safeEqual('', ''), true)
})

it('an HMAC header must carry its prefix and the right digest, in any hex case', () => {
  const options = { algorithm: 'sha256' as const, prefix: 'sha256=', secret: 's3cr3t', body }
  assert.equal(checkHmacHeader(`sha256=${sign('sha256')}`, options), 'valid')
  assert.equal(checkHmacHeader(`SHA256=${sign('sha256').toUpperCase()}`, options), 'valid')
  assert.equal(checkHmacHeader(sign('sha256'), options), 'invalid')
  assert.equal(checkHmacHeader(`sha1=${sign('sha1')}`, options), 'invalid')
  assert.equal(checkHmacHeader('sha256=', options), 'invalid')
  assert.equal(checkHmacHeader('sha256=zz', options), 'invalid')
  assert.equal(checkHmacHeader(undefined, options), 'missing')
  assert.equal(checkHmacHeader('  ', options), 'missing')
})

it('a bare hex signature has no prefix to strip', () => {
  const options = { algorithm: 'sha256' as const, prefix: '', secret: 's3cr3t', body }
  assert.equal(checkHmacHeader(sign('sha256'), options), 'valid')
  assert.equal(checkHmacHeader(`sha256=${sign('sha256')}`, options), 'invalid')
})

it('a secret header must equal the secret exactly', () => {
  assert.equal(checkSecretHeader('s3cr3t', 's3cr3t'), 'valid')
  assert.equal(checkSecretHeader('s3cr3t ', 's3cr3t'), 'invalid')
  assert.equal(checkSecretHeader('S3CR3T', 's3cr3t'), 'invalid')
  assert.equal(checkSecretHeader(undefined, 's3cr3t'), 'missing')
})

it('Authorization takes Bearer, Basic with any user, or the bare secret', () => {
  const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`
  assert.equal(checkAuthorization('Bearer s3cr3t', 's3cr3t'), 'valid')
  assert.equal(checkAuthorization('bearer s3cr3t', 's3cr3t'), 'valid')
  assert.equal(checkAuthorization('s3cr3t', 's3cr3t'), 'valid')
  assert.equal(checkAuthorization(basic('deckhand:s3cr3t'), 's3cr3t'), 'valid')
  assert.equal(checkAuthorization(basic('s3cr3t:'), 's3cr3t'), 'invalid')
  assert.equal(checkAuthorization('Bearer wrong', 's3cr3t'), 'invalid')
  assert.equal(checkAuthorization('Basic !!!not-base64', 's3cr3t'), 'invalid')
  assert.equal(checkAuthorization(undefined, 's3cr3t'), 'missing')
})
