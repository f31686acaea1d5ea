/** One pod as an instance row: readiness as its health, restarts, ports, and its start. */
import type { ReplicaStatus } from '../driver.ts'
import type { Pod } from './kubernetes-client.ts'

/** `problems` are podProblems' sentences for the workload's pods, `pod <name>: …` each. */
export function podStatus(pod: Pod, problems: string[]): ReplicaStatus {
  const statuses = pod.status?.containerStatuses ?? []
  const isReady = statuses.length > 0 && statuses.every((s) => s.ready)
  const problem = problems.find((p) => p.startsWith(`pod ${pod.metadata.name}:`))
  const ports = (pod.spec?.containers ?? []).flatMap((container) =>
    (container.ports ?? []).map(
      (port) => `${port.containerPort}/${(port.protocol ?? 'TCP').toLowerCase()}`,
    ),
  )
  const startedAt = lastStart(statuses.map((s) => s.state?.running?.startedAt))
  return {
    id: pod.metadata.name ?? '?',
    state: isReady ? 'running' : problem?.includes('CrashLoopBackOff') ? 'restarting' : 'starting',
    detail: problem ?? pod.status?.phase ?? 'Unknown',
    restarts: statuses.reduce((sum, s) => sum + s.restartCount, 0),
    // The pod's readiness is its health as the kubelet's probes see it.
    health: isReady ? 'ready' : 'not ready',
    ...(ports.length > 0 ? { port: ports.join(', ') } : {}),
    ...(startedAt ? { startedAt } : {}),
  }
}

/**
 * When the pod's most recently (re)started container started, ISO 8601: the start of what runs
 * now. client-node hands dates over as Date objects, a raw answer as strings; both are taken.
 */
function lastStart(starts: Array<Date | string | undefined>): string | undefined {
  const times = starts
    .map((start) => (start === undefined ? NaN : new Date(start).getTime()))
    .filter((time) => Number.isFinite(time))
  return times.length > 0 ? new Date(Math.max(...times)).toISOString() : undefined
}
