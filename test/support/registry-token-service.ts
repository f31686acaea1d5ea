/**
 * The token service a distribution registry in token mode sends clients to (the distribution
 * spec's "Token Authentication Specification"): it checks the user's basic credentials and
 * answers a JWT, signed RS256 by a key whose self-signed certificate the registry trusts
 * (`auth.token.rootcertbundle`), naming the actions granted on the scope asked for. The registry
 * verifies the signature through the certificate in the token's `x5c` header. Only this service
 * is made here; the registry checking its tokens is the real one.
 */
import { createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'

export const TOKEN_SERVICE = 'deckhand-test-registry'
export const TOKEN_ISSUER = 'deckhand-test-token-service'

export interface TokenService {
  /** `https://127.0.0.1:<port>/token`, the registry's `auth.token.realm`. */
  realm: string
  port: number
  /** The certificate the registry trusts for tokens (`rootcertbundle`). */
  certificateFile: string
  /** Every token request's scope and whether its credentials were good. */
  asked: { scope: string | null; granted: boolean }[]
  close(): Promise<void>
}

/**
 * Starts the token service over TLS with the registry's own server certificate (`server.crt`
 * and `server.key` in `dir`) and signs with `token.key`, whose certificate is `token.crt`.
 */
export async function startTokenService(
  dir: string,
  credentials: { username: string; password: string },
): Promise<TokenService> {
  const signingKey = createPrivateKey(await readFile(join(dir, 'token.key')))
  const certificate = new X509Certificate(await readFile(join(dir, 'token.crt')))
  const x5c = [certificate.raw.toString('base64')]
  const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
  const asked: TokenService['asked'] = []
  const server: Server = createServer(
    { cert: await readFile(join(dir, 'server.crt')), key: await readFile(join(dir, 'server.key')) },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'https://127.0.0.1')
      const scope = url.searchParams.get('scope')
      const granted = req.headers.authorization === expected
      asked.push({ scope, granted })
      if (url.pathname !== '/token' || !granted) {
        res.writeHead(401, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }))
        return
      }
      const now = Math.floor(Date.now() / 1000)
      const claims = {
        iss: TOKEN_ISSUER,
        sub: credentials.username,
        aud: url.searchParams.get('service'),
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: randomUUID(),
        access: scope ? grants(scope) : [],
      }
      const token = jwt({ typ: 'JWT', alg: 'RS256', x5c }, claims, signingKey)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ token, access_token: token, expires_in: 300 }))
    },
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    realm: `https://127.0.0.1:${port}/token`,
    port,
    certificateFile: join(dir, 'token.crt'),
    asked,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** `repository:acme/web:pull,push` (several scopes space-separated) as the token's `access`. */
function grants(scope: string): { type: string; name: string; actions: string[] }[] {
  return scope.split(' ').flatMap((one) => {
    const match = /^([a-z]+):(.+):([a-z*,]+)$/.exec(one)
    return match ? [{ type: match[1]!, name: match[2]!, actions: match[3]!.split(',') }] : []
  })
}

function jwt(header: object, claims: object, key: ReturnType<typeof createPrivateKey>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const input = `${part(header)}.${part(claims)}`
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`
}
