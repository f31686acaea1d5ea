/**
 * Credentials for private registries, from a Docker `config.json` (DECKHAND_REGISTRY_AUTH): the
 * engine API does not read that file, so Deckhand reads it and sends what it finds with every
 * pull (`X-Registry-Auth`) and every Swarm service update (`--with-registry-auth`).
 */
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'

import { registryHostOf } from '../model/registry-host.ts'
import { knownSecrets } from '../model/secret-redactor.ts'
import { helperProgram, runCredentialHelper } from './credential-helper.ts'
import { credentialEntry, credentialKeysOf } from './registry-endpoint.ts'

/** A config.json is a few kilobytes; a larger file is not read whole into memory. */
export const MAX_CONFIG_BYTES = 1024 * 1024

/** What the engine takes as `X-Registry-Auth` (base64 JSON); dockerode encodes it. */
export type RegistryAuth =
  | { username: string; password: string; serveraddress: string }
  | { identitytoken: string; serveraddress: string }

export interface RegistryLookup {
  /** The registry, normalised (`docker.io`, `127.0.0.1:5000`). */
  host: string
  /** The credentials to send; undefined when Deckhand has none for this registry. */
  auth?: RegistryAuth
  /** Where Deckhand looked, for messages: the file and the helper, never a credential. */
  source: string
}

/** Where credentials are read from when DECKHAND_REGISTRY_AUTH is unset, as the docker CLI does. */
export function defaultRegistryAuthPath(env: NodeJS.ProcessEnv): string {
  if (env.DOCKER_CONFIG) {
    return join(env.DOCKER_CONFIG, 'config.json')
  }
  return join(env.HOME || homedir(), '.docker', 'config.json')
}

type ConfigRead = { ok: true; config: DockerConfig | undefined } | { ok: false; problem: string }

// Each section keeps the file's keys as written, in the file's order: which one names a
// registry is credentialEntry's to say (exact names first, as the docker CLI looks).
interface DockerConfig {
  auths: Map<string, Record<string, unknown>>
  credHelpers: Map<string, string>
  credsStore: string | undefined
}

export class RegistryCredentials {
  readonly #path: string
  readonly #env: NodeJS.ProcessEnv

  /**
   * `path` is the config.json; `env` is where a credential helper is looked up on PATH and what
   * its explicit environment is taken from (child-env.ts).
   */
  constructor(path: string, env: NodeJS.ProcessEnv = process.env) {
    this.#path = path
    this.#env = env
  }

  /** The config.json this reads, for messages and the docs' "where Deckhand looked". */
  get path(): string {
    return this.#path
  }

  /**
   * The credentials for the registry of `image`. The file is read at each call, so a `docker
   * login` on the host takes effect without a restart. Rejects, naming the file or the helper,
   * when the file cannot be read or parsed or a helper fails.
   */
  async forImage(image: string): Promise<RegistryLookup> {
    const host = registryHostOf(image)
    const read = await this.#read()
    if (!read.ok) {
      throw new Error(`registry credentials for ${host}: ${read.problem}`)
    }
    if (read.config === undefined) {
      return { host, source: `${this.#path} (absent)` }
    }
    const { auths, credHelpers, credsStore } = read.config
    // The docker CLI's order: a helper named for this registry, then the store for all, then auths.
    const named = credentialEntry(credHelpers, host)
    const helper = named?.value ?? credsStore
    const tried: string[] = []
    if (helper !== undefined) {
      const program = helperProgram(helper)
      const via = named !== undefined ? 'credHelpers' : 'credsStore'
      if (program === undefined) {
        const named = JSON.stringify(helper.slice(0, 64))
        throw new Error(
          `registry credentials for ${host}: ${this.#path} ${via} names ${named}, not a helper name`,
        )
      }
      // Docker Hub's helpers are asked for `https://index.docker.io/v1/`, as `docker login` stores.
      const server = credentialKeysOf(host)[0]!
      const answer = await runCredentialHelper(program, server, this.#env)
      tried.push(`${program} (${via} of ${this.#path})`)
      if (answer.found) {
        const auth: RegistryAuth =
          answer.username === '<token>' || answer.username === ''
            ? { identitytoken: answer.secret, serveraddress: host }
            : { username: answer.username, password: answer.secret, serveraddress: host }
        return this.#found(host, auth, tried[0]!)
      }
    }
    const entry = credentialEntry(auths, host)?.value
    tried.push(`${this.#path} (auths)`)
    const auth = entry === undefined ? undefined : authOf(entry, host)
    return auth === undefined
      ? { host, source: tried.join(', then ') }
      : this.#found(host, auth, `${this.#path} (auths)`)
  }

  /**
   * The user and password for a registry's token or basic auth, by the host its API is asked
   * at (`registry-1.docker.io` is Docker Hub); null when there are none, or only an identity
   * token (an OAuth refresh token the registry client does not speak).
   */
  async basicFor(apiHost: string): Promise<{ username: string; password: string } | null> {
    // A repository makes the host a reference's host, whatever it looks like.
    const { auth } = await this.forImage(`${apiHost}/deckhand-probe`)
    return auth !== undefined && 'password' in auth
      ? { username: auth.username, password: auth.password }
      : null
  }

  #found(host: string, auth: RegistryAuth, source: string): RegistryLookup {
    // Whatever carries a credential is redacted from then on: the values and the header form.
    const values = 'password' in auth ? [auth.password] : [auth.identitytoken]
    const header = Buffer.from(JSON.stringify(auth)).toString('base64')
    // docker-modem sends the header URL-safe; both spellings are cut.
    knownSecrets.remember(...values, header, header.replaceAll('+', '-').replaceAll('/', '_'))
    return { host, auth, source }
  }

  async #read(): Promise<ConfigRead> {
    let text: string
    try {
      const bytes = await readFile(this.#path)
      if (bytes.length > MAX_CONFIG_BYTES) {
        const problem = `${this.#path} is ${bytes.length} bytes; at most ${MAX_CONFIG_BYTES} are read`
        return { ok: false, problem }
      }
      text = bytes.toString('utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT') {
        return { ok: true, config: undefined }
      }
      return { ok: false, problem: `${this.#path} cannot be read (${code ?? 'error'})` }
    }
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      // Never the parser's message: it quotes the file, which holds credentials.
      return { ok: false, problem: `${this.#path} is not valid JSON` }
    }
    if (!isRecord(value)) {
      return { ok: false, problem: `${this.#path} is not a JSON object` }
    }
    return { ok: true, config: configOf(value) }
  }
}

function configOf(value: Record<string, unknown>): DockerConfig {
  const auths = new Map<string, Record<string, unknown>>()
  for (const [key, entry] of Object.entries(isRecord(value.auths) ? value.auths : {})) {
    if (isRecord(entry)) {
      auths.set(key, entry)
    }
  }
  const credHelpers = new Map<string, string>()
  for (const [key, name] of Object.entries(isRecord(value.credHelpers) ? value.credHelpers : {})) {
    if (typeof name === 'string' && name !== '') {
      credHelpers.set(key, name)
    }
  }
  const store = value.credsStore
  const credsStore = typeof store === 'string' && store !== '' ? store : undefined
  return { auths, credHelpers, credsStore }
}

/** An `auths` entry's credentials: `identitytoken`, else `auth` (base64 user:password), else both. */
function authOf(entry: Record<string, unknown>, host: string): RegistryAuth | undefined {
  const text = (key: string): string | undefined => {
    const value = entry[key]
    return typeof value === 'string' && value !== '' ? value : undefined
  }
  const token = text('identitytoken')
  if (token !== undefined) {
    return { identitytoken: token, serveraddress: host }
  }
  const encoded = text('auth')
  if (encoded !== undefined) {
    const decoded = Buffer.from(encoded, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon > 0) {
      const username = decoded.slice(0, colon)
      return { username, password: decoded.slice(colon + 1), serveraddress: host }
    }
  }
  const username = text('username')
  const password = text('password')
  return username !== undefined && password !== undefined
    ? { username, password, serveraddress: host }
    : undefined
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
