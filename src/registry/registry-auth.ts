/**
 * Registry authentication as the distribution spec describes it: a 401 names a Basic or a
 * Bearer challenge; a Bearer realm hands out a token for the scope, using the basic
 * credentials when there are some (https://distribution.github.io/distribution/spec/auth/token/).
 */
import type { RegistryAnswer } from './registry-http.ts'

/** A registry user and password (or token), as a Docker config.json holds them. */
export interface RegistryCredentials {
  username: string
  password: string
}

/** Where the client finds credentials for a registry host; null when it has none. */
export type CredentialsFor = (
  host: string,
) => Promise<RegistryCredentials | null> | RegistryCredentials | null

export interface Challenge {
  scheme: 'basic' | 'bearer'
  params: Record<string, string>
}

/**
 * The first challenge of a `WWW-Authenticate` header, or null when it names neither Basic
 * nor Bearer. One pass over at most 4 KiB of header.
 */
export function parseChallenge(header: string | undefined): Challenge | null {
  if (!header || header.length > 4096) {
    return null
  }
  const match = /^\s*(basic|bearer)\b/i.exec(header)
  if (!match) {
    return null
  }
  const params: Record<string, string> = {}
  for (const [, key, quoted, bare] of header
    .slice(match[0].length)
    .matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) {
    params[key!.toLowerCase()] = quoted ?? bare ?? ''
  }
  return { scheme: match[1]!.toLowerCase() as Challenge['scheme'], params }
}

export function basicAuthorization(credentials: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
}

/** The token of a realm's JSON answer (`token`, or OAuth's `access_token`) and its lifetime. */
export function readToken(
  answer: RegistryAnswer,
): { token: string; expiresInSeconds: number } | null {
  try {
    const body = JSON.parse(answer.body.toString('utf8')) as Record<string, unknown>
    const token = typeof body.token === 'string' ? body.token : body.access_token
    if (typeof token !== 'string' || token.length === 0) {
      return null
    }
    // The spec's default lifetime is 60 s when the realm does not say.
    const expires =
      typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60
    return { token, expiresInSeconds: expires }
  } catch {
    return null
  }
}
