/** The `command` driver's target: one shell command per action, a working directory, a timeout. */
import { DeckhandError } from '../../errors.ts'
import { parseDuration } from '../../model/duration.ts'

export interface CommandTarget {
  /** Run with `/bin/sh -c` for a redeploy. */
  redeploy: string | undefined
  /** Run with `/bin/sh -c` for a scale; `DECKHAND_REPLICAS` holds the count to reach. */
  scale: string | undefined
  cwd: string | undefined
  timeoutMs: number
}

const FIELDS = ['redeploy', 'scale', 'cwd', 'timeout']
const DEFAULT_TIMEOUT_MS = 10 * 60_000

/** Problems with a command target, as sentences naming the field; empty when valid. */
export function checkCommandTarget(target: Record<string, unknown>): string[] {
  return readTarget(target).problems
}

/** The typed target; throws DH_ERR_DRIVER_TARGET listing every problem. */
export function parseCommandTarget(target: Record<string, unknown>): CommandTarget {
  const { value, problems } = readTarget(target)
  if (!value) {
    throw new DeckhandError(
      'DH_ERR_DRIVER_TARGET',
      `invalid command target: ${problems.join('; ')}`,
    )
  }
  return value
}

function readTarget(target: Record<string, unknown>): {
  value?: CommandTarget
  problems: string[]
} {
  const problems: string[] = []
  for (const key of Object.keys(target)) {
    if (!FIELDS.includes(key)) {
      problems.push(
        `target.${key} is not a command target field; expected one of ${FIELDS.join(', ')}`,
      )
    }
  }
  const { redeploy, scale, cwd, timeout } = target
  for (const [field, value] of [
    ['redeploy', redeploy],
    ['scale', scale],
  ] as const) {
    if (value !== undefined && (typeof value !== 'string' || value.trim() === '')) {
      problems.push(`target.${field} must be a non-empty shell command`)
    }
  }
  if (redeploy === undefined && scale === undefined) {
    problems.push(
      'target.redeploy or target.scale must be set: the shell command to run for that action',
    )
  }
  if (cwd !== undefined && (typeof cwd !== 'string' || cwd === '')) {
    problems.push('target.cwd must be a directory path')
  }
  const timeoutMs = timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(timeout)
  if (timeoutMs === undefined || timeoutMs === 0) {
    problems.push('target.timeout must be a duration such as "10m" or a number of seconds above 0')
  }
  if (problems.length > 0 || timeoutMs === undefined) {
    return { problems }
  }
  return {
    problems,
    value: {
      redeploy: redeploy as string | undefined,
      scale: scale as string | undefined,
      cwd: cwd as string | undefined,
      timeoutMs,
    },
  }
}
