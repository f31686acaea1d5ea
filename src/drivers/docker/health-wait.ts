/** Waits for a started container to be healthy: its own HEALTHCHECK, else running for a while. */
import { setTimeout as delay } from 'node:timers/promises'

import type { ContainerInspect, DockerContainer } from './docker-client.ts'

export interface HealthWaitOptions {
  /** Give up after this long. */
  timeoutMs: number
  /** Without a HEALTHCHECK, how long the container must keep running (without restarting). */
  settleMs: number
  signal: AbortSignal
  /** How often to inspect; the engine answers inspect in about a millisecond over its socket. */
  intervalMs?: number
}

export type HealthResult =
  { healthy: true; elapsedMs: number; how: string } | { healthy: false; reason: string }

/** Polls inspect until the container is healthy, fails, or the time runs out. */
export async function waitHealthy(
  container: DockerContainer,
  options: HealthWaitOptions,
): Promise<HealthResult> {
  const started = Date.now()
  const deadline = started + options.timeoutMs
  let restarts: number | undefined
  let last: ContainerInspect | undefined
  for (;;) {
    if (options.signal.aborted) {
      return { healthy: false, reason: 'the deployment was canceled while waiting for health' }
    }
    last = await container.inspect()
    restarts ??= last.RestartCount
    const state = last.State
    if (state.Status === 'exited' || state.Status === 'dead') {
      return {
        healthy: false,
        reason: `the container exited with code ${state.ExitCode}${state.Error ? ` (${state.Error})` : ''}`,
      }
    }
    if (state.Restarting || last.RestartCount > restarts) {
      return {
        healthy: false,
        reason: `the container is restarting (last exit code ${state.ExitCode})`,
      }
    }
    const health = state.Health?.Status
    if (health === 'unhealthy') {
      return { healthy: false, reason: `its health check failed: ${lastProbe(last)}` }
    }
    if (health === 'healthy') {
      return { healthy: true, elapsedMs: Date.now() - started, how: 'its health check passed' }
    }
    if (!health && state.Running && Date.now() - started >= options.settleMs) {
      return {
        healthy: true,
        elapsedMs: Date.now() - started,
        how: `it kept running for ${options.settleMs} ms`,
      }
    }
    if (Date.now() >= deadline) {
      const what = health
        ? `health is still "${health}"; last probe: ${lastProbe(last)}`
        : `state is "${state.Status}"`
      return {
        healthy: false,
        reason: `it was not healthy within ${options.timeoutMs} ms (${what})`,
      }
    }
    await delay(
      Math.min(options.intervalMs ?? 100, Math.max(1, deadline - Date.now())),
      undefined,
      {
        signal: options.signal,
      },
    ).catch(() => undefined)
  }
}

function lastProbe(container: ContainerInspect): string {
  const probe = container.State.Health?.Log?.at(-1)
  if (!probe) {
    return 'no probe has finished yet'
  }
  const output = probe.Output.trim().split('\n').slice(-3).join(' / ')
  return `exit code ${probe.ExitCode}${output ? `, output "${output}"` : ''}`
}
