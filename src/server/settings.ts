/** Server settings from the environment (PRODUCT.md section 7), each with its default. */
import { resolve } from 'node:path'
import type { FastifyInstance } from 'fastify'

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
  /** deckhand.yaml to apply at start. */
  configFile: string | undefined
  /** Where the first-start admin token is printed (once). */
  announce: (text: string) => void
  plugins?: ((app: FastifyInstance) => Promise<void> | void)[]
}

export class SettingsError extends Error {}

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

export function readSettings(env: NodeJS.ProcessEnv, flags: { listen?: string; config?: string } = {}): ServerSettings {
  const listen = flags.listen ?? env.DECKHAND_LISTEN ?? '127.0.0.1:8080'
  const match = /^(.*):(\d+)$/.exec(listen)
  if (!match) {
    throw new SettingsError(`DECKHAND_LISTEN must be host:port (e.g. 127.0.0.1:8080 or 0.0.0.0:8080); got ${JSON.stringify(listen)}`)
  }
  const host = match[1]!.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1'
  const port = Number(match[2])
  const dataDir = resolve(env.DECKHAND_DATA_DIR ?? './data')
  const databaseUrl = env.DECKHAND_DATABASE_URL ?? `sqlite:${dataDir}/deckhand.db`
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
    throw new SettingsError('DECKHAND_DATABASE_URL must start with sqlite: (a file path) or postgres://')
  }
  const displayHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  return {
    host,
    port,
    publicUrl: (env.DECKHAND_PUBLIC_URL ?? `http://${displayHost.includes(':') ? `[${displayHost}]` : displayHost}:${port}`).replace(/\/+$/, ''),
    databaseUrl,
    dataDir,
    adminToken: env.DECKHAND_ADMIN_TOKEN || undefined,
    trustedProxies: (env.DECKHAND_TRUSTED_PROXIES ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    maxBodyBytes: number('DECKHAND_MAX_BODY_BYTES', env.DECKHAND_MAX_BODY_BYTES, 1024 * 1024),
    drivers: (env.DECKHAND_DRIVERS ?? 'process,command').split(',').map((s) => s.trim()).filter(Boolean),
    ...(env.DOCKER_HOST ? { dockerHost: env.DOCKER_HOST } : {}),
    concurrency: number('DECKHAND_CONCURRENCY', env.DECKHAND_CONCURRENCY, 4),
    leaseMs: number('DECKHAND_LEASE_MS', env.DECKHAND_LEASE_MS, 30_000),
    shutdownGraceMs: number('DECKHAND_SHUTDOWN_GRACE_MS', env.DECKHAND_SHUTDOWN_GRACE_MS, 20_000),
    logLevel: env.DECKHAND_LOG_LEVEL ?? 'info',
    configFile: flags.config ?? env.DECKHAND_CONFIG,
    announce: (text) => process.stderr.write(text),
  }
}
