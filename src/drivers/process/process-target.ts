/** The `process` driver's target: parsed and checked once, so the driver works with typed values. */
import { DeckhandError } from '../../errors.ts'
import { parseDuration } from '../../model/duration.ts'

/** How a new replica proves it is ready. */
export type ProcessHealth =
  { kind: 'http'; path: string } | { kind: 'tcp' } | { kind: 'runningFor'; ms: number }

export interface ProcessTarget {
  /** Run with `/bin/sh -c`. */
  command: string
  cwd: string | undefined
  env: Record<string, string>
  replicas: number | undefined
  /** Replica i gets `PORT = basePort + i`. */
  basePort: number | undefined
  health: ProcessHealth
  stopGraceMs: number
}

const FIELDS = ['command', 'cwd', 'env', 'replicas', 'basePort', 'health', 'stopGrace']
/** A process that survives its first second is the weakest useful sign of life. */
const DEFAULT_HEALTH: ProcessHealth = { kind: 'runningFor', ms: 1000 }
const DEFAULT_STOP_GRACE_MS = 10_000

/** Problems with a process target, as sentences naming the field; empty when valid. */
export function checkProcessTarget(target: Record<string, unknown>): string[] {
  return readTarget(target).problems
}

/** The typed target; throws DH_ERR_DRIVER_TARGET listing every problem. */
export function parseProcessTarget(target: Record<string, unknown>): ProcessTarget {
  const { value, problems } = readTarget(target)
  if (!value) {
    throw new DeckhandError(
      'DH_ERR_DRIVER_TARGET',
      `invalid process target: ${problems.join('; ')}`,
    )
  }
  return value
}

function readTarget(target: Record<string, unknown>): {
  value?: ProcessTarget
  problems: string[]
} {
  const problems: string[] = []
  for (const key of Object.keys(target)) {
    if (!FIELDS.includes(key)) {
      problems.push(
        `target.${key} is not a process target field; expected one of ${FIELDS.join(', ')}`,
      )
    }
  }
  const { command, cwd, env, replicas, basePort, health, stopGrace } = target
  if (typeof command !== 'string' || command.trim() === '') {
    problems.push('target.command must be a non-empty shell command line, such as "node server.js"')
  }
  if (cwd !== undefined && (typeof cwd !== 'string' || cwd === '')) {
    problems.push('target.cwd must be a directory path')
  }
  const parsedEnv: Record<string, string> = {}
  if (env !== undefined) {
    if (typeof env !== 'object' || env === null || Array.isArray(env)) {
      problems.push('target.env must be an object of variable names to string values')
    } else {
      for (const [name, value] of Object.entries(env)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
          problems.push(`target.env.${name} is not a valid variable name`)
        } else if (
          typeof value !== 'string' &&
          typeof value !== 'number' &&
          typeof value !== 'boolean'
        ) {
          problems.push(`target.env.${name} must be a string`)
        } else {
          parsedEnv[name] = String(value)
        }
      }
    }
  }
  if (replicas !== undefined && !(Number.isInteger(replicas) && (replicas as number) >= 0)) {
    problems.push('target.replicas must be a whole number of at least 0')
  }
  if (
    basePort !== undefined &&
    !(Number.isInteger(basePort) && (basePort as number) >= 1 && (basePort as number) <= 65535)
  ) {
    problems.push('target.basePort must be a port number between 1 and 65535')
  }
  const parsedHealth = readHealth(health, basePort !== undefined, problems)
  const stopGraceMs = stopGrace === undefined ? DEFAULT_STOP_GRACE_MS : parseDuration(stopGrace)
  if (stopGraceMs === undefined) {
    problems.push('target.stopGrace must be a duration such as "10s" or a number of seconds')
  }
  if (problems.length > 0 || stopGraceMs === undefined || parsedHealth === undefined) {
    return { problems }
  }
  return {
    problems,
    value: {
      command: command as string,
      cwd: cwd as string | undefined,
      env: parsedEnv,
      replicas: replicas as number | undefined,
      basePort: basePort as number | undefined,
      health: parsedHealth,
      stopGraceMs,
    },
  }
}

function readHealth(
  health: unknown,
  hasBasePort: boolean,
  problems: string[],
): ProcessHealth | undefined {
  if (health === undefined) {
    return DEFAULT_HEALTH
  }
  const shape = 'target.health must be {"http": "/path"}, {"tcp": true} or {"runningFor": "2s"}'
  if (typeof health !== 'object' || health === null || Object.keys(health).length !== 1) {
    problems.push(shape)
    return undefined
  }
  const record = health as Record<string, unknown>
  if ('http' in record || 'tcp' in record) {
    if (!hasBasePort) {
      problems.push('target.health checks a port, so target.basePort must be set too')
    }
  }
  if ('http' in record) {
    if (typeof record.http !== 'string' || !record.http.startsWith('/')) {
      problems.push('target.health.http must be a path starting with "/", such as "/healthz"')
      return undefined
    }
    return { kind: 'http', path: record.http }
  }
  if ('tcp' in record) {
    if (record.tcp !== true) {
      problems.push('target.health.tcp must be true')
      return undefined
    }
    return { kind: 'tcp' }
  }
  if ('runningFor' in record) {
    const ms = parseDuration(record.runningFor)
    if (ms === undefined) {
      problems.push('target.health.runningFor must be a duration such as "2s"')
      return undefined
    }
    return { kind: 'runningFor', ms }
  }
  problems.push(shape)
  return undefined
}
