/** One Swarm task as an instance row: its slot, container, state, start, restarts and ports. */
import type { SwarmServiceInspect, SwarmTask } from '../docker/docker-client.ts'
import type { ReplicaStatus } from '../driver.ts'

/** A task's row; `tasks` is the service's whole task list, for the slot's earlier failures. */
export function taskStatus(
  name: string,
  task: SwarmTask,
  tasks: SwarmTask[],
  ports: string,
): ReplicaStatus {
  return {
    id: `${name}.${task.Slot ?? task.NodeID?.slice(0, 12) ?? '?'}`,
    state:
      task.Status.State === 'running'
        ? 'running'
        : task.Status.State === 'failed'
          ? 'crashed'
          : 'starting',
    detail: task.Status.Err ?? task.Status.Message ?? task.Status.State,
    restarts: slotFailures(task, tasks),
    ...(task.Status.ContainerStatus?.ContainerID
      ? { container: task.Status.ContainerStatus.ContainerID.slice(0, 12) }
      : {}),
    ...(ports ? { port: ports } : {}),
    // A task's status timestamp is when it reached its state: for a running one, its start.
    ...(task.Status.State === 'running' && task.Status.Timestamp
      ? { startedAt: task.Status.Timestamp }
      : {}),
  }
}

/**
 * Swarm restarts a task by replacing it in the same slot (or node, for a global service): the
 * slot's earlier tasks that failed or were rejected are its restarts, as far back as Swarm
 * keeps history (TaskHistoryRetentionLimit, 5 by default). Tasks shut down by an update are not.
 */
function slotFailures(task: SwarmTask, tasks: SwarmTask[]): number {
  const sameSlot = (other: SwarmTask): boolean =>
    task.Slot !== undefined ? other.Slot === task.Slot : other.NodeID === task.NodeID
  return tasks.filter(
    (other) =>
      other.ID !== task.ID &&
      sameSlot(other) &&
      (other.Status.State === 'failed' || other.Status.State === 'rejected'),
  ).length
}

/**
 * The service's published ports as `docker service ls` shows them, `*:8080->80/tcp`; a port
 * published in host mode is bound on each task's node, `8080->80/tcp (host)`.
 */
export function servicePorts(service: SwarmServiceInspect): string {
  return (service.Endpoint?.Ports ?? [])
    .filter((port) => port.PublishedPort)
    .map((port) => {
      const mapping = `${port.PublishedPort}->${port.TargetPort}/${port.Protocol ?? 'tcp'}`
      return port.PublishMode === 'host' ? `${mapping} (host)` : `*:${mapping}`
    })
    .join(', ')
}
