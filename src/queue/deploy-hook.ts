/**
 * A service's `deploy.before` and `deploy.after` hooks: one shell command each, run on
 * Deckhand's host in the child environment of every program Deckhand starts plus the
 * deployment's (PRODUCT.md sections 4 and 10), with its own timeout and its output in the log.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { setTimeout as delay } from 'node:timers/promises'

import { childEnv } from '../drivers/child-env.ts'
import { hasLiveGroupMembers, killGroup } from '../drivers/process/process-group.ts'
import { formatDuration } from '../model/duration.ts'
import type { DeployHook, Deployment, DeploymentState, Service } from '../model/index.ts'
import { redeployChange } from './deployment-env.ts'

export type HookName = 'before' | 'after'

/** On failure, `reason` is the first sentence and `error` adds the hook's last output. */
export type HookResult = { ok: true } | { ok: false; reason: string; error: string }

export interface HookRun {
  /** Which hook, for its log lines and errors. */
  name: HookName
  /** The command and its timeout. */
  hook: DeployHook
  /** The whole environment of the hook (hookEnv). */
  env: Record<string, string>
  /** Aborts the hook: a cancel, a lost lease, shutdown. */
  signal: AbortSignal
  /** Writes a line to the deployment's log; the hook's output carries its stream. */
  log: (line: string, stream?: 'stdout' | 'stderr') => void
  /** After SIGTERM, how long the hook's process group gets before SIGKILL. */
  killGraceMs?: number
}

/** Lines of output quoted in a failed hook's error, as the command driver quotes its own. */
const TAIL_LINES = 20
/** After the shell exits, how long a background child may hold its output pipes open. */
const DRAIN_MS = 500
const DEFAULT_KILL_GRACE_MS = 5000

type Ending = { code: number | null; signal: NodeJS.Signals | null }

/**
 * What a hook sees: PATH, HOME, LANG, TZ and DECKHAND_PASS_ENV's names, the service's own
 * `target.env` (process services), the section-4 variables, the action and service, and for
 * `after` the state the deployment ended in.
 */
export function hookEnv(
  service: Service,
  deployment: Deployment,
  state?: DeploymentState,
): Record<string, string> {
  const env: Record<string, string> = { ...childEnv(), ...stringsOf(service.target.env) }
  Object.assign(env, redeployChange(service, deployment).env, {
    DECKHAND_ACTION: deployment.action,
    DECKHAND_SERVICE: service.name,
  })
  if (state !== undefined) {
    env.DECKHAND_DEPLOYMENT_STATE = state
  }
  return env
}

function stringsOf(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {}
  }
  const isText = (entry: [string, unknown]): entry is [string, string] =>
    typeof entry[1] === 'string'
  return Object.fromEntries(Object.entries(value).filter(isText))
}

/** Runs the hook to its end, its timeout or the signal; exit 0 is ok, anything else says why. */
export async function runDeployHook(run: HookRun): Promise<HookResult> {
  const { name, hook, log } = run
  const what = `the deploy.${name} hook`
  log(`running ${what} (timeout ${formatDuration(hook.timeoutMs)})`)
  // Its own process group, so a timeout or cancel kills what the hook started too.
  const child = spawn('/bin/sh', ['-c', hook.run], {
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
  const timedOut = delay(hook.timeoutMs, 'timeout' as const, { signal: stopped }).catch(
    () => 'aborted' as const,
  )
  const first = await Promise.race([ended, timedOut])
  stop.abort()
  let reason: string | undefined
  if (first === 'timeout' || first === 'aborted') {
    reason =
      first === 'timeout'
        ? `${what} did not finish within ${formatDuration(hook.timeoutMs)} and was killed`
        : `${what} was stopped: ${abortReason(run.signal)}`
    log(reason)
    await killAll(child.pid, ended, run.killGraceMs ?? DEFAULT_KILL_GRACE_MS)
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
    log(`${what} succeeded`)
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

function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason
  return reason instanceof Error ? reason.message : String(reason ?? 'aborted')
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
  const deadline = Date.now() + graceMs
  while ((!hasEnded || hasLiveGroupMembers(pid)) && Date.now() < deadline) {
    await delay(50)
  }
  if (!hasEnded || hasLiveGroupMembers(pid)) {
    killGroup(pid, 'SIGKILL')
  }
}
