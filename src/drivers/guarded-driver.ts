/**
 * The wrapper every driver runs inside: deadline, abort, throws (worded by the driver's
 * describeFailure), log cap and timing, held once.
 */
import { setTimeout as delay } from 'node:timers/promises'

import { coerceError, DeckhandError } from '../errors.ts'
import { formatDuration } from '../model/duration.ts'
import type { Service } from '../model/index.ts'
import { DeployFailure } from './deploy-failure.ts'
import type {
  Driver,
  DriverCapabilities,
  DriverContext,
  DriverOutcome,
  LogWriter,
  RedeployChange,
  ServiceStatus,
} from './driver.ts'
import { failureHeadline } from './failure-headline.ts'

export interface GuardedDriverOptions {
  /** Driver log lines kept per deployment; then one line says the rest was dropped. Default 5000. */
  maxLogLines?: number
  /** Longer lines are cut, so one runaway line cannot fill the store. Default 8192 characters. */
  maxLineChars?: number
  /**
   * After an abort or the deadline, how long the inner driver gets to stop what it started
   * before the guard answers anyway. Default 15 s.
   */
  settleMs?: number
}

// Variables whose values are credentials by their name; their values never reach the log.
const SECRET_NAME = /SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|PRIVATE|CREDENTIAL/i
const DEADLINE = Symbol('deadline')

type Settled = { outcome: DriverOutcome } | { thrown: unknown }

export class GuardedDriver implements Driver {
  #inner: Driver
  #maxLogLines: number
  #maxLineChars: number
  #settleMs: number

  constructor(inner: Driver, options: GuardedDriverOptions = {}) {
    this.#inner = inner
    this.#maxLogLines = options.maxLogLines ?? 5000
    this.#maxLineChars = options.maxLineChars ?? 8192
    this.#settleMs = options.settleMs ?? 15_000
  }

  get name(): Driver['name'] {
    return this.#inner.name
  }

  get capabilities(): DriverCapabilities {
    return this.#inner.capabilities
  }

  checkTarget(target: Record<string, unknown>): string[] {
    try {
      return this.#inner.checkTarget(target)
    } catch (error) {
      return [`target could not be checked: ${coerceError(error).message}`]
    }
  }

  redeploy(service: Service, change: RedeployChange, ctx: DriverContext): Promise<DriverOutcome> {
    return this.#guard('redeploy', change, ctx, (inner) =>
      this.#inner.redeploy(service, change, inner),
    )
  }

  scale(
    service: Service,
    replicas: number,
    change: RedeployChange,
    ctx: DriverContext,
  ): Promise<DriverOutcome> {
    return this.#guard('scale', change, ctx, (inner) =>
      this.#inner.scale(service, replicas, change, inner),
    )
  }

  inspect(service: Service): Promise<ServiceStatus> {
    return this.#inner.inspect(service)
  }

  attach(service: Service): Promise<void> {
    return this.#inner.attach(service)
  }

  detach(service: Service): Promise<void> {
    return this.#inner.detach(service)
  }

  ping(): Promise<void> {
    return this.#inner.ping()
  }

  close(): Promise<void> {
    return this.#inner.close()
  }

  async #guard(
    action: string,
    change: RedeployChange,
    ctx: DriverContext,
    run: (inner: DriverContext) => Promise<DriverOutcome>,
  ): Promise<DriverOutcome> {
    const started = Date.now()
    const log = new CappedLog(
      ctx.log,
      this.#maxLogLines,
      this.#maxLineChars,
      secretValues(change.env),
    )
    const controller = new AbortController()
    const forward = (): void => controller.abort(ctx.signal.reason)
    ctx.signal.addEventListener('abort', forward, { once: true })
    const timer = setTimeout(() => controller.abort(DEADLINE), Math.max(0, ctx.deadline - started))
    let outcome: DriverOutcome
    try {
      outcome = await this.#run(action, ctx, controller.signal, log, run, started)
    } finally {
      clearTimeout(timer)
      ctx.signal.removeEventListener('abort', forward)
      log.close()
    }
    const took = seconds(Date.now() - started)
    const dropped = log.dropped === 0 ? '' : ` (${log.dropped} log lines dropped)`
    const summary =
      outcome.state === 'succeeded'
        ? `${action} finished in ${took}${dropped}`
        : `${action} failed after ${took}${dropped}: ${failureHeadline(outcome.error)}`
    log.writeOwn(summary)
    return outcome
  }

  async #run(
    action: string,
    ctx: DriverContext,
    signal: AbortSignal,
    log: CappedLog,
    run: (inner: DriverContext) => Promise<DriverOutcome>,
    started: number,
  ): Promise<DriverOutcome> {
    const stopped = (): DriverOutcome => {
      const isDeadline = signal.reason === DEADLINE || Date.now() >= ctx.deadline
      const allowed = ctx.deadline - started
      const error = !isDeadline
        ? `canceled: the ${action} was stopped after ${seconds(Date.now() - started)}`
        : allowed <= 0
          ? `the deadline passed before the ${action} could start`
          : `deadline of ${roundedDuration(allowed)} passed before the ${action} finished`
      return { state: 'failed', error }
    }
    if (ctx.signal.aborted || Date.now() >= ctx.deadline) {
      return stopped()
    }
    const inner: DriverContext = { ...ctx, signal, log: log.writer }
    const settled: Promise<Settled> = (async () => run(inner))().then(
      (outcome) => ({ outcome }),
      (thrown: unknown) => ({ thrown }),
    )
    const aborted = new Promise<'aborted'>((resolve) => {
      signal.addEventListener('abort', () => resolve('aborted'), { once: true })
    })
    const first = await Promise.race([settled, aborted])
    if (first === 'aborted') {
      // The inner driver saw the abort too; waiting for it keeps one deployment per service
      // true, since the worker starts the next one as soon as this call returns.
      const waiting = new AbortController()
      const late = await Promise.race([
        settled,
        delay(this.#settleMs, 'late' as const, { signal: waiting.signal }).catch(
          () => 'late' as const,
        ),
      ])
      waiting.abort()
      const outcome = stopped()
      if (late === 'late' && outcome.state === 'failed') {
        outcome.error += `; the driver had not stopped ${seconds(this.#settleMs)} later`
      }
      return outcome
    }
    if ('thrown' in first) {
      const error = this.#describe(first.thrown)
      // The summary line gives the first sentence; the output the error quotes is in the log
      // already. Only what neither says (what was restored, a second failure) is written.
      for (const line of log.unwritten(error.split('\n').slice(1))) {
        log.writeOwn(line)
      }
      return { state: 'failed', error }
    }
    if (!isOutcome(first.outcome)) {
      return {
        state: 'failed',
        error: `the ${this.#inner.name} driver returned no outcome for the ${action}`,
      }
    }
    return first.outcome
  }

  /** Why a throw failed the deployment: our own words as they are, else the driver's reading. */
  #describe(thrown: unknown): string {
    if (thrown instanceof DeployFailure || thrown instanceof DeckhandError) {
      return thrown.message
    }
    try {
      return this.#inner.describeFailure?.(thrown) ?? coerceError(thrown).message
    } catch {
      return coerceError(thrown).message
    }
  }
}

/** Failures quote at most a few dozen lines of output (docker: 10, child processes: 20). */
const RECENT_LINES = 50

/** The deployment's log writer with a line cap, a line length cap and secret redaction. */
class CappedLog {
  #write: LogWriter
  #maxLines: number
  #maxChars: number
  #secrets: string[]
  #lines = 0
  #isClosed = false
  /** The driver's last lines as written, so a failure quoting them does not write them again. */
  #recent: string[] = []
  dropped = 0

  constructor(write: LogWriter, maxLines: number, maxChars: number, secrets: string[]) {
    this.#write = write
    this.#maxLines = maxLines
    this.#maxChars = maxChars
    this.#secrets = secrets
  }

  /** What the inner driver writes to; lines after the call returned are dropped. */
  readonly writer: LogWriter = (line, stream = 'deckhand') => {
    if (this.#isClosed) {
      return
    }
    this.#lines += 1
    if (this.#lines > this.#maxLines) {
      this.dropped += 1
      if (this.dropped === 1) {
        this.writeOwn(`log capped at ${this.#maxLines} lines: the rest of this output is dropped`)
      }
      return
    }
    const cleaned = this.#clean(String(line))
    this.#recent.push(cleaned)
    if (this.#recent.length > RECENT_LINES) {
      this.#recent.shift()
    }
    this.writeOwn(cleaned, stream)
  }

  /** Those of `lines` that are not blank and not among the driver's last lines. */
  unwritten(lines: string[]): string[] {
    const written = new Set(this.#recent.map((line) => line.trim()))
    return lines
      .map((line) => this.#clean(line))
      .filter((line) => {
        const text = line.trim()
        return text !== '' && !written.has(text)
      })
  }

  /** The guard's own lines, outside the cap. */
  writeOwn(line: string, stream: 'deckhand' | 'stdout' | 'stderr' = 'deckhand'): void {
    try {
      this.#write(line, stream)
    } catch {
      // A log store that fails must not fail the deployment or crash a driver's timer callback;
      // the store reports its own failure where it happens.
    }
  }

  close(): void {
    this.#isClosed = true
  }

  #clean(line: string): string {
    let cleaned = line
    for (const secret of this.#secrets) {
      cleaned = cleaned.replaceAll(secret, '[redacted]')
    }
    if (cleaned.length > this.#maxChars) {
      const extra = cleaned.length - this.#maxChars
      cleaned = `${cleaned.slice(0, this.#maxChars)}… (${extra} more characters)`
    }
    return cleaned
  }
}

function secretValues(env: Record<string, string>): string[] {
  // Short values would redact ordinary words; four characters is where a credential starts.
  return Object.entries(env)
    .filter(([name, value]) => SECRET_NAME.test(name) && value.length >= 4)
    .map(([, value]) => value)
}

function isOutcome(value: unknown): value is DriverOutcome {
  const state = (value as { state?: unknown } | null)?.state
  return (
    state === 'succeeded' ||
    (state === 'failed' && typeof (value as { error?: unknown }).error === 'string')
  )
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`
}

/** `60s` rather than `59.998s` for a deadline computed a few milliseconds after it was set. */
function roundedDuration(ms: number): string {
  return ms >= 1000 ? formatDuration(Math.round(ms / 1000) * 1000) : formatDuration(Math.max(0, ms))
}
