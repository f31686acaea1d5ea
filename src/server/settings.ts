/** Server settings from the environment (PRODUCT.md section 7), each with its default. */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

import type { FastifyInstance } from 'fastify'

import { parseDuration } from '../model/duration.ts'
import { STATUS_HOSTS } from '../model/index.ts'
import { readStatusTokens } from '../model/status-token.ts'
import { type CallbackHosts, readCallbackHosts } from '../notify/outgoing-policy.ts'
import { defaultRegistryAuthPath } from '../registry/registry-credentials.ts'
import { LOG_FORMATS, type LogFormat } from './logger.ts'

export interface ServerSettings {
  host: string
  port: number
  publicUrl: string
  databaseUrl: string
  dataDir: string
  adminToken: string | undefined
  trustedProxies: string[]
  maxBodyBytes: number
  /** Drivers to enable; docker and swarm join when an engine socket is configured or present. */
  drivers: string[]
  /** DOCKER_HOST as read with the other settings (`unix://…`); the docker and swarm socket. */
  dockerHost?: string
  concurrency: number
  leaseMs: number
  shutdownGraceMs: number
  logLevel: string
  /** DECKHAND_LOG_FORMAT: pretty or json; unset, pretty on a terminal and JSON elsewhere. */
  logFormat?: LogFormat
  /** Calls and the logs of deployments that ended longer ago than this are pruned (DECKHAND_RETAIN). */
  retainMs: number
  /** At most this many calls are kept, newest first (DECKHAND_RETAIN_CALLS). */
  retainCalls: number
  /** How often pruning runs; every ten minutes unless a test says otherwise. */
  pruneIntervalMs: number
  /** DECKHAND_PASS_ENV: variables of Deckhand's environment every child also gets (child-env.ts). */
  passEnv: string[]
  /**
   * How often deployments awaiting approval are checked against their deadline; every 15 s
   * unless a test says otherwise.
   */
  approvalSweepMs?: number
  /** DECKHAND_CALLBACK_HOSTS: hosts a Docker Hub callback_url may name (outgoing-policy.ts). */
  callbackHosts: CallbackHosts
  /**
   * DECKHAND_GITLAB_TOKEN, DECKHAND_GITEA_TOKEN, DECKHAND_BITBUCKET_TOKEN and the names that
   * continue them (`…_TOKEN_WEB`), by name: commit-status tokens (model/status-token.ts).
   */
  statusTokens: ReadonlyMap<string, string>
  /**
   * DECKHAND_REGISTRY_AUTH: the Docker config.json whose credentials the docker and swarm
   * drivers send to private registries; default $DOCKER_CONFIG/config.json, ~/.docker/config.json.
   */
  registryAuth: string
  /** DECKHAND_REGISTRY_CA: PEM certificates trusted for registries besides the system's roots. */
  registryCa: string[]
  /** DECKHAND_REGISTRY_CERTS_D: Docker's certs.d, whose `<host:port>/*.crt` registries are trusted. */
  registryCertsDir: string
  /** deckhand.yaml to apply at start. */
  configFile: string | undefined
  /** Where the first-start admin token is printed (once). */
  announce: (text: string) => void
  plugins?: ((app: FastifyInstance) => Promise<void> | void)[]
  /**
   * Tests only: the clock change windows and freezes are judged by (calls and the release
   * timer), and how often the timer looks at held deployments at most (default 60 s).
   */
  clock?: () => number
  releaseCheckMs?: number
}

export class SettingsError extends Error {}

/** Where the Docker daemon looks for a registry's CA; Deckhand's registry client looks too. */
const DOCKER_CERTS_D = '/etc/docker/certs.d'

const number = (name: string, value: string | undefined, fallback: number): number => {
  if (value === undefined || value === '') {
    return fallback
  }
  const parsed = Number(value)
  if (!Number.isFinite(parsed) || parsed < 0) {
    throw new SettingsError(`${name} must be a non-negative number; got ${JSON.stringify(value)}`)
  }
  return parsed
}

/** An admin token a person chose must be as hard to guess as the 43 characters Deckhand makes. */
export const MIN_ADMIN_TOKEN_LENGTH = 32

function adminToken(value: string | undefined): string | undefined {
  if (value && value.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new SettingsError(
      `DECKHAND_ADMIN_TOKEN must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters; it has ${value.length}. ` +
        'Make one with `openssl rand -base64 32`, or unset it and Deckhand prints one at first start',
    )
  }
  return value || undefined
}

function logFormat(value: string): LogFormat {
  // `text` was this setting's name for `pretty` before PRODUCT.md named it; kept so that
  // installs configured then still start.
  const format = LOG_FORMATS.find((f) => f === (value === 'text' ? 'pretty' : value))
  if (!format) {
    throw new SettingsError(
      `DECKHAND_LOG_FORMAT must be ${LOG_FORMATS.join(' or ')}; got ${JSON.stringify(value)}`,
    )
  }
  return format
}

function duration(name: string, value: string | undefined, fallback: string): number {
  const ms = parseDuration(value === undefined || value === '' ? fallback : value)
  if (ms === undefined || ms <= 0) {
    throw new SettingsError(
      `${name} must be a duration such as 30d, 12h or 90m; got ${JSON.stringify(value)}`,
    )
  }
  return ms
}

export function readSettings(
  env: NodeJS.ProcessEnv,
  flags: { listen?: string; config?: string } = {},
): ServerSettings {
  const listen = flags.listen ?? env.DECKHAND_LISTEN ?? '127.0.0.1:8080'
  const match = /^(.*):(\d+)$/.exec(listen)
  if (!match) {
    throw new SettingsError(
      `DECKHAND_LISTEN must be host:port (e.g. 127.0.0.1:8080 or 0.0.0.0:8080); got ${JSON.stringify(listen)}`,
    )
  }
  const host = match[1]!.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1'
  const port = Number(match[2])
  const dataDir = resolve(env.DECKHAND_DATA_DIR ?? './data')
  const databaseUrl = env.DECKHAND_DATABASE_URL ?? `sqlite:${dataDir}/deckhand.db`
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
    throw new SettingsError(
      'DECKHAND_DATABASE_URL must start with sqlite: (a file path) or postgres://',
    )
  }
  const displayHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  return {
    host,
    port,
    publicUrl: (
      env.DECKHAND_PUBLIC_URL ??
      `http://${displayHost.includes(':') ? `[${displayHost}]` : displayHost}:${port}`
    ).replace(/\/+$/, ''),
    databaseUrl,
    dataDir,
    adminToken: adminToken(env.DECKHAND_ADMIN_TOKEN),
    trustedProxies: (env.DECKHAND_TRUSTED_PROXIES ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    maxBodyBytes: number('DECKHAND_MAX_BODY_BYTES', env.DECKHAND_MAX_BODY_BYTES, 1024 * 1024),
    drivers: (env.DECKHAND_DRIVERS ?? 'process,command')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    ...(env.DOCKER_HOST ? { dockerHost: env.DOCKER_HOST } : {}),
    concurrency: number('DECKHAND_CONCURRENCY', env.DECKHAND_CONCURRENCY, 4),
    leaseMs: number('DECKHAND_LEASE_MS', env.DECKHAND_LEASE_MS, 30_000),
    shutdownGraceMs: number('DECKHAND_SHUTDOWN_GRACE_MS', env.DECKHAND_SHUTDOWN_GRACE_MS, 20_000),
    logLevel: env.DECKHAND_LOG_LEVEL ?? 'info',
    ...(env.DECKHAND_LOG_FORMAT ? { logFormat: logFormat(env.DECKHAND_LOG_FORMAT) } : {}),
    retainMs: duration('DECKHAND_RETAIN', env.DECKHAND_RETAIN, '30d'),
    retainCalls: Math.max(
      1,
      Math.floor(number('DECKHAND_RETAIN_CALLS', env.DECKHAND_RETAIN_CALLS, 100_000)),
    ),
    pruneIntervalMs: 10 * 60_000,
    passEnv: readPassEnv(env.DECKHAND_PASS_ENV),
    callbackHosts: readCallbackHosts(env.DECKHAND_CALLBACK_HOSTS),
    statusTokens: readStatusTokens(env, STATUS_HOSTS),
    registryAuth: resolve(env.DECKHAND_REGISTRY_AUTH || defaultRegistryAuthPath(env)),
    registryCa: readRegistryCa(env.DECKHAND_REGISTRY_CA),
    registryCertsDir: resolve(env.DECKHAND_REGISTRY_CERTS_D || DOCKER_CERTS_D),
    configFile: flags.config ?? env.DECKHAND_CONFIG,
    announce: (text) => process.stderr.write(text),
  }
}

/**
 * DECKHAND_PASS_ENV's names (comma list). A name that is not a variable name is a typo, and one
 * of Deckhand's own settings (`DECKHAND_*`: the admin token, the database URL) would hand a
 * secret to every script: both stop startup.
 */
function readPassEnv(value: string | undefined): string[] {
  const names = (value ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)
  for (const name of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new SettingsError(
        `DECKHAND_PASS_ENV names ${JSON.stringify(name.slice(0, 64))}, which is not a variable name`,
      )
    }
    if (name.toUpperCase().startsWith('DECKHAND_')) {
      throw new SettingsError(
        `DECKHAND_PASS_ENV names ${name}: Deckhand's own settings never reach a child process;` +
          ' give the script the value under another name',
      )
    }
  }
  return names
}

/** The PEM files DECKHAND_REGISTRY_CA names (comma list), read once so a typo stops startup. */
function readRegistryCa(value: string | undefined): string[] {
  const files = (value ?? '')
    .split(',')
    .map((file) => file.trim())
    .filter(Boolean)
  return files.map((file) => {
    let pem: string
    try {
      pem = readFileSync(file, 'utf8')
    } catch (error) {
      throw new SettingsError(
        `DECKHAND_REGISTRY_CA names ${file}, which cannot be read: ${(error as Error).message}`,
      )
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new SettingsError(`DECKHAND_REGISTRY_CA names ${file}, which holds no PEM certificate`)
    }
    return pem
  })
}
