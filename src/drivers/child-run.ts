/**
 * One shell command run to its end, its timeout or its signal, for the command driver and the
 * deploy hooks alike: `/bin/sh -c` in its own process group with the environment it is given
 * (built on childEnv), its output streamed line by line to the log (redacted where the log
 * writes it) with the last lines kept for the error, and on a timeout or an abort SIGTERM to
 * the whole group, then SIGKILL to what is left after the grace period.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { setTimeout as delay } from 'node:timers/promises'

import { formatDuration } from '../model/duration.ts'
import { hasLiveGroupMembers, killGroup } from './process/process-group.ts'

/** Lines of output quoted in a failed run's error. */
const TAIL_LINES = 20
/**
 * After the shell exits, how long its output pipes may stay open. A command that leaves a
 * background process holding them (`server &`) must not keep the deployment running.
 */
const DRAIN_MS = 500

export interface ChildRun {
  /** The command as log lines and errors name it: `the redeploy command`, `the deploy.before hook`. */
  what: string
  command: string
  /** The whole environment of the child. */
  env: Record<string, string>
  cwd?: string
  timeoutMs: number
  /** Aborts the run: a cancel, a lost lease, shutdown. */
  signal: AbortSignal
  /** The sentence logged and recorded when `signal` stops the run. */
  aborted: (signal: AbortSignal) => string
  /** After SIGTERM, how long the process group gets before SIGKILL. */
  killGraceMs: number
  log: (line: string, stream?: 'stdout' | 'stderr') => void
}

/** On failure, `reason` is the first sentence and `error` adds the last output. */
export type ChildResult = { ok: true } | { ok: false; reason: string; error: string }

type Ending = { code: number | null; signal: NodeJS.Signals | null }

export async function runChild(run: ChildRun): Promise<ChildResult> {
  const { what, log } = run
  // Its own process group, so a timeout or cancel kills what the command started too.
  const child = spawn('/bin/sh', ['-c', run.command], {
    cwd: run.cwd,
    env: run.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lastLines: string[] = []
  const pipes = (['stdout', 'stderr'] as const).map((stream) => {
    const lines = createInterface({ input: child[stream], crlfDelay: Infinity })
    lines.on('line', (line) => {
      lastLines.push(line)
      if (lastLines.length > TAIL_LINES) {
        lastLines.shift()
      }
      log(line, stream)
    })
    return new Promise<void>((resolve) => lines.once('close', resolve))
  })
  const ended = new Promise<Ending | Error>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
    child.once('error', resolve)
  })
  const stop = new AbortController()
  const stopped = AbortSignal.any([run.signal, stop.signal])
  const timedOut = delay(run.timeoutMs, 'timeout' as const, { signal: stopped }).catch(
    () => 'aborted' as const,
  )
  const first = await Promise.race([ended, timedOut])
  stop.abort()
  let reason: string | undefined
  if (first === 'timeout' || first === 'aborted') {
    reason =
      first === 'timeout'
        ? `${what} did not finish within ${formatDuration(run.timeoutMs)} and was killed`
        : run.aborted(run.signal)
    log(reason)
    await killAll(child.pid, ended, run.killGraceMs)
  }
  const ending = await ended
  await Promise.race([Promise.all(pipes), delay(DRAIN_MS)])
  child.stdout.destroy()
  child.stderr.destroy()
  if (ending instanceof Error) {
    const failed = `${what} could not start: ${ending.message}`
    return { ok: false, reason: failed, error: failed }
  }
  if (reason === undefined && ending.code === 0) {
    return { ok: true }
  }
  reason ??=
    ending.signal === null
      ? `${what} exited with code ${ending.code}`
      : `${what} was killed by ${ending.signal}`
  const output =
    lastLines.length === 0 ? 'it wrote no output' : `its last output:\n${lastLines.join('\n')}`
  return { ok: false, reason, error: `${reason}; ${output}` }
}

/** SIGTERM to the whole group, SIGKILL to what is left after the grace period. */
async function killAll(
  pid: number | undefined,
  ended: Promise<unknown>,
  graceMs: number,
): Promise<void> {
  if (pid === undefined) {
    return
  }
  killGroup(pid, 'SIGTERM')
  let hasEnded = false
  void ended.then(() => (hasEnded = true))
  // The shell may exit at once while what it started is still shutting down, or trap SIGTERM.
  const deadline = Date.now() + graceMs
  while ((!hasEnded || hasLiveGroupMembers(pid)) && Date.now() < deadline) {
    await delay(50)
  }
  if (!hasEnded || hasLiveGroupMembers(pid)) {
    killGroup(pid, 'SIGKILL')
  }
}
