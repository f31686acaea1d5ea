/**
 * A service's `deploy.before` and `deploy.after` hooks: one shell command each, run on
 * Deckhand's host in the child environment of every program Deckhand starts plus the
 * deployment's (PRODUCT.md sections 4 and 10), with its own timeout and its output in the log.
 */
import { childEnv } from '../drivers/child-env.ts'
import { type ChildResult, runChild } from '../drivers/child-run.ts'
import { formatDuration } from '../model/duration.ts'
import type { DeployHook, Deployment, DeploymentState, Service } from '../model/index.ts'
import { redeployChange } from './deployment-env.ts'

export type HookName = 'before' | 'after'

/** On failure, `reason` is the first sentence and `error` adds the hook's last output. */
export type HookResult = ChildResult

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

const DEFAULT_KILL_GRACE_MS = 5000

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
  const result = await runChild({
    what,
    command: hook.run,
    env: run.env,
    timeoutMs: hook.timeoutMs,
    signal: run.signal,
    aborted: (signal) => `${what} was stopped: ${abortReason(signal)}`,
    killGraceMs: run.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
    log,
  })
  if (result.ok) {
    log(`${what} succeeded`)
  }
  return result
}

function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason
  return reason instanceof Error ? reason.message : String(reason ?? 'aborted')
}
