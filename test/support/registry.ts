/**
 * A real CNCF distribution registry (Debian's `docker-registry`, 2.8) for one test: plain HTTP,
 * htpasswd auth over TLS with a CA made here, or token auth over TLS with a token service made
 * here (registry-token-service.ts), optionally sending its notifications to a URL.
 *
 * The private dockerd lives in a network namespace of its own with only loopback, so the
 * registry (on the host's 127.0.0.1, where Deckhand and its notifications are) is bridged into
 * that namespace at the same address: a forwarder inside it listens on 127.0.0.1:<port> and
 * pipes each connection through a unix socket (sockets in the file system cross namespaces) to
 * the registry. `127.0.0.1:<port>/acme/web` names the same image for the engine and Deckhand.
 */
import type { ChildProcess } from 'node:child_process'
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { AddressInfo, Server, Socket } from 'node:net'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'

import type { PrivateDockerd } from './private-dockerd.ts'
import {
  startTokenService,
  TOKEN_ISSUER,
  TOKEN_SERVICE,
  type TokenService,
} from './registry-token-service.ts'
import { skipOrFail } from './required-parts.ts'
import { waitFor } from './wait-for.ts'

export const REGISTRY_BINARY = '/usr/bin/docker-registry'

export interface RegistryOptions {
  /** htpasswd auth over TLS, with a CA made for this registry. */
  secure?: boolean
  /**
   * Token auth over TLS instead of htpasswd: the registry sends clients to a token service
   * (started here) that checks the user's credentials and signs a JWT the registry verifies.
   */
  token?: boolean
  /** Where the registry sends its notifications (`notifications.endpoints[0]`). */
  notify?: { url: string; headers?: Record<string, string> }
  /** Makes the registry reachable from this engine's network namespace as well. */
  engine?: PrivateDockerd
  /**
   * With `secure`: CA files (PEM) whose client certificates the registry requires of every
   * client (`http.tls.clientcas`); the TLS handshake fails without one. The engine is not given
   * one here, so `push` does not work on such a registry.
   */
  clientCas?: string[]
}

export interface TestRegistry {
  /** `127.0.0.1:<port>`, the host part of image references. */
  host: string
  /** `http://…` or `https://…` of the registry's API. */
  url: string
  /** The CA that signed the registry's certificate (PEM), when secure. */
  ca: string | null
  /** The CA as a file, for tools that take a path. */
  caFile: string | null
  /** The one htpasswd user, when secure. */
  credentials: { username: string; password: string } | null
  /**
   * Writes a Docker `config.json` into `dir` with this registry's credentials under `auths`
   * (nothing when not secure) and returns its path.
   */
  writeDockerConfig(dir: string): Promise<string>
  /**
   * Tags the engine's local image `source` as `<host>/<repository>:<tag>` and pushes it
   * (logging in first when secure). Resolves with the pushed manifest's digest.
   */
  push(engine: PrivateDockerd, source: string, repository: string, tag: string): Promise<string>
  /** The registry's own log so far, for assertion messages. */
  log(): string
  /** The token service, in token mode. */
  tokenService: TokenService | null
}

/**
 * Starts a registry for `t` and stops it after `t`, or skips `t` loudly when the registry is
 * not installed (fails instead when DECKHAND_TEST_REQUIRE names `registry`).
 */
export async function startRegistry(
  t: TestContext,
  options: RegistryOptions = {},
): Promise<TestRegistry | undefined> {
  if (!existsSync(REGISTRY_BINARY)) {
    skipOrFail(t, 'registry', `${REGISTRY_BINARY} is missing; apt-get install -y docker-registry`)
    return undefined
  }
  const dir = await mkdtemp(join(tmpdir(), 'dh-registry-'))
  const cleanups: (() => Promise<void> | void)[] = [() => rm(dir, { recursive: true, force: true })]
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup()
    }
  })
  const port = await freePort()
  const host = `127.0.0.1:${port}`
  const secure = options.secure === true || options.token === true
  const credentials = secure
    ? { username: 'deckhand', password: `pw-${Math.random().toString(36).slice(2)}` }
    : null
  let ca: string | null = null
  let caFile: string | null = null
  let tokenService: TokenService | null = null
  if (secure && credentials) {
    caFile = await makeCertificates(dir)
    ca = await readFile(caFile, 'utf8')
    if (options.token) {
      await makeTokenSigner(dir)
      const service = await startTokenService(dir, credentials)
      cleanups.push(() => service.close())
      tokenService = service
    } else {
      await writeFile(join(dir, 'htpasswd'), await htpasswdLine(credentials))
    }
  }
  await writeFile(join(dir, 'config.yml'), registryConfig(dir, host, options, tokenService))

  const registry = spawn(REGISTRY_BINARY, ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output: string[] = []
  const keep = (chunk: Buffer): void => {
    output.push(chunk.toString('utf8'))
    if (output.length > 200) {
      output.shift()
    }
  }
  registry.stdout?.on('data', keep)
  registry.stderr?.on('data', keep)
  cleanups.push(() => stopChild(registry))
  const url = `${secure ? 'https' : 'http'}://${host}`
  await waitFor(
    async () => {
      if (registry.exitCode !== null) {
        throw new Error(`docker-registry exited with ${registry.exitCode}: ${output.join('')}`)
      }
      return probe(url, ca, (options.clientCas ?? []).length > 0)
    },
    { timeoutMs: 15_000, intervalMs: 20, what: `the registry on ${host} to answer` },
  )

  if (options.engine?.netnsPid) {
    // The engine asks the token service itself when it pulls or pushes, so that is bridged too.
    for (const bridged of tokenService ? [port, tokenService.port] : [port]) {
      cleanups.push(...(await bridgeIntoNamespace(dir, bridged, options.engine.netnsPid)))
    }
  }

  const writeDockerConfig = async (target: string): Promise<string> => {
    const auths = credentials
      ? {
          [host]: {
            auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64'),
          },
        }
      : {}
    const path = join(target, 'config.json')
    await writeFile(path, JSON.stringify({ auths }, null, 2), { mode: 0o600 })
    return path
  }

  return {
    host,
    url,
    ca,
    caFile,
    credentials,
    writeDockerConfig,
    async push(engine, source, repository, tag) {
      // A docker CLI config of its own, so a login never touches the machine's ~/.docker.
      const cliConfig = await mkdtemp(join(tmpdir(), 'dh-registry-cli-'))
      try {
        const docker = (args: string[], input?: string) =>
          execText(
            'docker',
            ['--config', cliConfig, '-H', `unix://${engine.socketPath}`, ...args],
            input,
          )
        if (credentials) {
          await docker(
            ['login', '--username', credentials.username, '--password-stdin', host],
            credentials.password,
          )
        }
        const reference = `${host}/${repository}:${tag}`
        await docker(['tag', source, reference])
        const pushed = await docker(['push', reference])
        const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed)?.[1]
        if (!digest) {
          throw new Error(`docker push ${reference} printed no digest: ${pushed}`)
        }
        return digest
      } finally {
        await rm(cliConfig, { recursive: true, force: true })
      }
    },
    log: () => output.join(''),
    tokenService,
  }
}

function registryConfig(
  dir: string,
  host: string,
  options: RegistryOptions,
  tokenService: TokenService | null,
): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${host}`,
    '  secret: deckhand-test',
  ]
  if (options.secure || tokenService) {
    lines.push(
      '  tls:',
      `    certificate: ${join(dir, 'server.crt')}`,
      `    key: ${join(dir, 'server.key')}`,
    )
    if (options.clientCas && options.clientCas.length > 0) {
      lines.push('    clientcas:', ...options.clientCas.map((file) => `      - ${file}`))
    }
  }
  if (tokenService) {
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${tokenService.realm}`,
      `    service: ${TOKEN_SERVICE}`,
      `    issuer: ${TOKEN_ISSUER}`,
      `    rootcertbundle: ${tokenService.certificateFile}`,
    )
  } else if (options.secure) {
    lines.push(
      'auth:',
      '  htpasswd:',
      '    realm: deckhand-test',
      `    path: ${join(dir, 'htpasswd')}`,
    )
  }
  if (options.notify) {
    lines.push(
      'notifications:',
      '  endpoints:',
      '    - name: deckhand',
      `      url: ${JSON.stringify(options.notify.url)}`,
      '      timeout: 5s',
      '      threshold: 5',
      '      backoff: 1s',
    )
    const headers = Object.entries(options.notify.headers ?? {})
    if (headers.length > 0) {
      lines.push('      headers:')
      for (const [name, value] of headers) {
        lines.push(`        ${name}: [${JSON.stringify(value)}]`)
      }
    }
  }
  return `${lines.join('\n')}\n`
}

/** A CA and a certificate for 127.0.0.1 signed by it; resolves with the CA's path. */
async function makeCertificates(dir: string): Promise<string> {
  const file = (name: string) => join(dir, name)
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  await execText('openssl', [
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
    '/CN=deckhand test CA',
  ])
  await execText('openssl', [
    'req',
    ...key,
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
    '-subj',
    '/CN=127.0.0.1',
  ])
  await writeFile(
    file('server.ext'),
    'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  )
  await execText('openssl', [
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('server.crt'),
    '-days',
    '2',
    '-extfile',
    file('server.ext'),
  ])
  return file('ca.crt')
}

/** The token service's RSA key and the self-signed certificate the registry trusts it by. */
async function makeTokenSigner(dir: string): Promise<void> {
  await execText('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    join(dir, 'token.key'),
    '-out',
    join(dir, 'token.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=deckhand test token signer',
  ])
}

/**
 * The registry reads only bcrypt htpasswd lines. Python's crypt module (libxcrypt) makes them;
 * cost 5 keeps the registry's check of every request cheap.
 */
async function htpasswdLine(credentials: { username: string; password: string }): Promise<string> {
  const hash = await execText(
    'python3',
    [
      '-W',
      'ignore',
      '-c',
      'import crypt,sys; print(crypt.crypt(sys.stdin.read(), crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=32)))',
    ],
    credentials.password,
  )
  if (!hash.startsWith('$2')) {
    throw new Error(`python3 made no bcrypt hash for the registry's htpasswd: ${hash}`)
  }
  return `${credentials.username}:${hash}\n`
}

/**
 * Answers (any status) from /v2/ mean the registry listens; so does a TLS alert refusing the
 * probe's missing client certificate, on a registry that requires one.
 */
async function probe(url: string, ca: string | null, clientCertRequired = false): Promise<boolean> {
  const request = url.startsWith('https') ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v2/`, { ca: ca ?? undefined }, (res) => {
      res.resume()
      resolve(true)
    })
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (clientCertRequired && /ALERT/.test(error.code ?? '')) {
        resolve(true)
        return
      }
      reject(error)
    })
    req.end()
  })
}

/**
 * Bridges 127.0.0.1:<port> of the namespace of `pid` to the host's 127.0.0.1:<port>: a unix
 * socket here pipes to the registry, a forwarder there (Node, under nsenter) pipes to the socket.
 */
async function bridgeIntoNamespace(
  dir: string,
  port: number,
  pid: number,
): Promise<(() => Promise<void>)[]> {
  const socketPath = join(dir, `bridge-${port}.sock`)
  const open = new Set<Socket>()
  const server: Server = createServer((inbound) => {
    const outbound = connect(port, '127.0.0.1')
    for (const socket of [inbound, outbound]) {
      open.add(socket)
      socket.on('close', () => open.delete(socket))
      socket.on('error', () => inbound.destroy())
    }
    inbound.pipe(outbound).pipe(inbound)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(socketPath, resolve)
  })
  const forwarder = spawn(
    'nsenter',
    [
      `--net=/proc/${pid}/ns/net`,
      '--',
      process.execPath,
      '-e',
      FORWARDER,
      String(port),
      socketPath,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let said = ''
  forwarder.stdout?.on('data', (chunk: Buffer) => (said += chunk.toString('utf8')))
  forwarder.stderr?.on('data', (chunk: Buffer) => (said += chunk.toString('utf8')))
  await waitFor(
    () => {
      if (forwarder.exitCode !== null) {
        throw new Error(`the registry forwarder exited with ${forwarder.exitCode}: ${said}`)
      }
      return said.includes('listening')
    },
    { timeoutMs: 10_000, intervalMs: 10, what: 'the registry forwarder in the engine namespace' },
  )
  return [
    () => stopChild(forwarder),
    () =>
      new Promise<void>((resolve) => {
        for (const socket of open) {
          socket.destroy()
        }
        server.close(() => resolve())
      }),
  ]
}

// Runs inside the engine's namespace: 127.0.0.1:<port> there → the unix socket given.
const FORWARDER = `
const net = require('node:net')
const [port, socketPath] = process.argv.slice(1)
net.createServer((inbound) => {
  const outbound = net.connect(socketPath)
  inbound.on('error', () => outbound.destroy())
  outbound.on('error', () => inbound.destroy())
  inbound.pipe(outbound).pipe(inbound)
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\\n'))
`

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(timer)
}

function execText(file: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`${file} ${args.join(' ')} failed: ${stderr.trim() || error.message}`))
      } else {
        resolve(stdout.trim())
      }
    })
    child.stdin?.on('error', () => undefined)
    child.stdin?.end(input)
  })
}
