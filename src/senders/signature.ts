// Constant-time comparisons for the secrets and HMAC signatures senders present.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

import type { SignatureCheck } from './sender.ts'

export type HmacAlgorithm = 'sha256' | 'sha1'

/**
 * Compares two strings in time that depends on neither content nor length: both sides are
 * hashed first, so `timingSafeEqual` always sees 32 bytes and a wrong length leaks nothing.
 */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest()
  const b = createHash('sha256').update(expected, 'utf8').digest()
  return timingSafeEqual(a, b)
}

/** The lower-case hex HMAC of `body` keyed with `secret`. */
export function hmacHex(algorithm: HmacAlgorithm, secret: string, body: Buffer | string): string {
  return createHmac(algorithm, secret).update(body).digest('hex')
}

/**
 * Checks a hex HMAC signature header. `prefix` is the part before the hex digits (`sha256=`
 * for GitHub, Bitbucket and generic senders, empty for Gitea); it is matched case-insensitively
 * because proxies and hand-written senders vary, and hex case does not matter either.
 */
export function checkHmacHeader(
  value: string | undefined,
  options: { algorithm: HmacAlgorithm; prefix: string; secret: string; body: Buffer },
): SignatureCheck {
  if (value === undefined || value.trim() === '') {
    return 'missing'
  }
  const trimmed = value.trim()
  const { algorithm, prefix, secret, body } = options
  if (trimmed.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase()) {
    return 'invalid'
  }
  const given = trimmed.slice(prefix.length).toLowerCase()
  return safeEqual(given, hmacHex(algorithm, secret, body)) ? 'valid' : 'invalid'
}

/** Checks a header that carries the secret itself (GitLab's `X-Gitlab-Token`). */
export function checkSecretHeader(value: string | undefined, secret: string): SignatureCheck {
  if (value === undefined || value === '') {
    return 'missing'
  }
  return safeEqual(value, secret) ? 'valid' : 'invalid'
}

/**
 * Checks an `Authorization` header against the trigger secret, for senders without a signature
 * scheme. Accepted forms, each compared in constant time:
 * - `Bearer <secret>`: Alertmanager's `authorization` block, ACR custom headers, curl;
 * - `Basic base64(<any user>:<secret>)`: Alertmanager's `basic_auth`, and senders that only
 *   take a URL (Quay, Docker Hub) when given `https://deckhand:<secret>@host/hooks/…`;
 * - `<secret>` alone: Harbor's "Auth Header" field is sent verbatim, and operators paste the
 *   bare secret there as often as `Bearer <secret>`.
 */
export function checkAuthorization(value: string | undefined, secret: string): SignatureCheck {
  if (value === undefined || value.trim() === '') {
    return 'missing'
  }
  const trimmed = value.trim()
  const space = trimmed.indexOf(' ')
  const scheme = space === -1 ? '' : trimmed.slice(0, space).toLowerCase()
  const credentials = space === -1 ? '' : trimmed.slice(space + 1).trim()
  let given = trimmed
  if (scheme === 'bearer') {
    given = credentials
  } else if (scheme === 'basic') {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    given = colon === -1 ? decoded : decoded.slice(colon + 1)
  }
  return safeEqual(given, secret) ? 'valid' : 'invalid'
}
