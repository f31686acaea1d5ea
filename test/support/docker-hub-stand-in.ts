/**
 * A stand-in for Docker Hub on 127.0.0.1, for tests only: Docker Hub is an outside API that
 * tests never reach. Two TLS servers with a certificate (made here by a CA made here) for the
 * real names: `registry-1.docker.io` answers the Registry HTTP API v2 and `auth.docker.io`
 * hands out tokens, as Docker's token API documents
 * (https://docs.docker.com/registry/spec/auth/token/, the distribution spec's auth/token):
 *
 * - the registry answers a request without a valid token `401` with `WWW-Authenticate: Bearer
 *   realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:<name>:pull"`
 *   and its `errors[]` body (`UNAUTHORIZED`), and a token without the scope with the same
 *   challenge plus `error="insufficient_scope"`;
 * - `GET /token?service=registry.docker.io&scope=repository:<name>:pull` answers `{token,
 *   access_token, expires_in, issued_at}`: anonymously, a token that may pull public
 *   repositories only; with Basic credentials, one that may pull the user's private ones too;
 *   wrong credentials are `401`.
 *
 * A client reaches it through RegistryClient's `connectTo`, which keeps the real names as the
 * Host header and TLS server name.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { promisify } from 'node:util'

const run = promisify(execFile)

export const HUB_REGISTRY = 'registry-1.docker.io'
export const HUB_AUTH = 'auth.docker.io'
const SERVICE = 'registry.docker.io'

export interface HubRepository {
  /** Tag → manifest digest. */
  tags: Record<string, string>
  /** Only this user (with `password`) may pull it; public when absent. */
  owner?: { username: string; password: string }
}

export interface HubRequest {
  host: string
  method: string
  path: string
  authorization: string | undefined
}

export interface DockerHubStandIn {
  /** For RegistryClient's `connectTo`: the stand-in's address for each of Docker Hub's names. */
  connectTo: (host: string) => { host: string; port: number }
  /** The CA that signed the stand-in's certificate (PEM). */
  ca: string
  /** Repository (`library/nginx`) → its tags; the test changes them as pushes would. */
  repositories: Map<string, HubRepository>
  /** Every request both servers saw, in order. */
  requests: HubRequest[]
}

export async function startDockerHubStandIn(t: TestContext): Promise<DockerHubStandIn> {
  const dir = await mkdtemp(join(tmpdir(), 'dh-hub-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const { ca, cert, key } = await makeCertificate(dir)
  const repositories = new Map<string, HubRepository>()
  const requests: HubRequest[] = []
  // token → the repositories it may pull.
  const tokens = new Map<string, Set<string>>()

  const seen = (req: IncomingMessage): URL => {
    const url = new URL(req.url ?? '/', `https://${req.headers.host}`)
    requests.push({
      host: req.headers.host ?? '',
      method: req.method ?? '',
      path: `${url.pathname}${url.search}`,
      authorization: req.headers.authorization,
    })
    return url
  }

  const auth = (req: IncomingMessage, res: ServerResponse): void => {
    const url = seen(req)
    const scope = url.searchParams.get('scope') ?? ''
    const name = /^repository:([^:]+):pull$/.exec(scope)?.[1]
    if (url.pathname !== '/token' || url.searchParams.get('service') !== SERVICE || !name) {
      json(res, 400, { details: 'unsupported service or scope' })
      return
    }
    let user: string | null = null
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    if (basic) {
      const [username, password] = Buffer.from(basic, 'base64').toString('utf8').split(':')
      const known = [...repositories.values()].some(
        (r) => r.owner?.username === username && r.owner?.password === password,
      )
      if (!known) {
        json(res, 401, { details: 'incorrect username or password' })
        return
      }
      user = username!
    }
    const repository = repositories.get(name)
    const allowed = new Set<string>()
    if (repository && (!repository.owner || repository.owner.username === user)) {
      allowed.add(name)
    }
    // Docker Hub hands out a token for a scope it will not grant too; the registry refuses it.
    const token = `hub-token-${tokens.size + 1}`
    tokens.set(token, allowed)
    json(res, 200, {
      token,
      access_token: token,
      expires_in: 300,
      issued_at: new Date().toISOString(),
    })
  }

  const registry = (req: IncomingMessage, res: ServerResponse): void => {
    const url = seen(req)
    if (req.headers.host !== HUB_REGISTRY) {
      json(res, 400, { errors: [{ code: 'UNSUPPORTED', message: 'wrong host' }] })
      return
    }
    const match = /^\/v2\/(.+)\/(manifests\/[^/]+|tags\/list)$/.exec(url.pathname)
    if (!match) {
      json(res, 404, { errors: [{ code: 'NOT_FOUND', message: 'not found' }] })
      return
    }
    const name = match[1]!
    const challenge =
      `Bearer realm="https://${HUB_AUTH}/token",service="${SERVICE}",` +
      `scope="repository:${name}:pull"`
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    const grants = token ? tokens.get(token) : undefined
    if (!grants || !grants.has(name)) {
      res.setHeader(
        'www-authenticate',
        grants ? `${challenge},error="insufficient_scope"` : challenge,
      )
      json(res, 401, {
        errors: [
          {
            code: 'UNAUTHORIZED',
            message: 'authentication required',
            detail: [{ Type: 'repository', Class: '', Name: name, Action: 'pull' }],
          },
        ],
      })
      return
    }
    const repository = repositories.get(name)!
    if (match[2] === 'tags/list') {
      json(res, 200, { name, tags: Object.keys(repository.tags) })
      return
    }
    const digest = repository.tags[decodeURIComponent(match[2]!.slice('manifests/'.length))]
    if (!digest) {
      json(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] })
      return
    }
    res.writeHead(200, {
      'content-type': 'application/vnd.oci.image.index.v1+json',
      'docker-content-digest': digest,
      etag: `"${digest}"`,
    })
    res.end()
  }

  const addresses = new Map<string, number>()
  for (const [name, handle] of [
    [HUB_REGISTRY, registry],
    [HUB_AUTH, auth],
  ] as const) {
    const server = createServer({ cert, key }, handle)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
    addresses.set(name, (server.address() as AddressInfo).port)
  }

  return {
    connectTo: (host) => {
      const port = addresses.get(host)
      if (port === undefined) {
        // Nothing of the outside world is asked: a host the stand-in does not play fails.
        throw new Error(`the Docker Hub stand-in does not answer for ${host}`)
      }
      return { host: '127.0.0.1', port }
    },
    ca,
    repositories,
    requests,
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

/** A CA, and a certificate it signs for Docker Hub's two names. */
async function makeCertificate(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const file = (name: string) => join(dir, name)
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  await run('openssl', [
    'req',
    '-x509',
    ...key,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=deckhand Docker Hub stand-in CA',
  ])
  await run('openssl', [
    'req',
    ...key,
    '-keyout',
    file('hub.key'),
    '-out',
    file('hub.csr'),
    '-subj',
    `/CN=${HUB_REGISTRY}`,
  ])
  await writeFile(
    file('hub.ext'),
    `subjectAltName=DNS:${HUB_REGISTRY},DNS:${HUB_AUTH}\nextendedKeyUsage=serverAuth\n`,
  )
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    file('hub.csr'),
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('hub.crt'),
    '-days',
    '2',
    '-extfile',
    file('hub.ext'),
  ])
  const [ca, cert, privateKey] = await Promise.all(
    ['ca.crt', 'hub.crt', 'hub.key'].map((name) => readFile(file(name), 'utf8')),
  )
  return { ca: ca!, cert: cert!, key: privateKey! }
}
