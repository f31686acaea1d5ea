/** Follows a Deployment or StatefulSet rollout the way `kubectl rollout status` judges it. */
import { setTimeout as delay } from 'node:timers/promises'

import { formatDuration } from '../../model/duration.ts'
import type { DriverContext } from '../driver.ts'
import type { KubernetesClient, Pod, Workload, WorkloadKind } from './kubernetes-client.ts'
import { selectorString } from './kubernetes-target.ts'

/** Where one poll found the rollout: still going, done, or past its progress deadline. */
export type RolloutStatus =
  { phase: 'waiting' | 'done'; message: string } | { phase: 'stalled'; message: string }

export type RolloutResult =
  | { state: 'complete'; workload: Workload; message: string }
  | { state: 'stalled'; message: string; podProblems: string[] }
  | { state: 'canceled'; message: string }

export interface FollowOptions {
  /** Time between polls of the workload and its pods. */
  pollMs: number
  /**
   * StatefulSets have no progressDeadlineSeconds: a StatefulSet that makes no progress for this
   * long is treated as a Deployment past its deadline.
   */
  statefulSetDeadlineMs: number
  /**
   * For a scale: also wait until exactly this many pods exist and are ready. kubectl's checks
   * pass while surplus pods of a scale-down are still counted, so they are not enough alone.
   */
  replicas?: number
}

/**
 * The verdict of one read, after kubectl's DeploymentStatusViewer and StatefulSetStatusViewer
 * (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go), so Deckhand and kubectl agree.
 */
export function rolloutStatus(kind: WorkloadKind, workload: Workload): RolloutStatus {
  const spec = workload.spec
  const status = workload.status ?? {}
  const generation = workload.metadata.generation ?? 0
  const observed = status.observedGeneration ?? 0
  const wanted = spec?.replicas ?? 1
  if (observed === 0 || generation > observed) {
    return {
      phase: 'waiting',
      message: `waiting for the ${kind} controller to observe generation ${generation}`,
    }
  }
  if (kind === 'Deployment') {
    const progressing = status.conditions?.find((c) => c.type === 'Progressing')
    if (progressing?.reason === 'ProgressDeadlineExceeded') {
      return {
        phase: 'stalled',
        message: `ProgressDeadlineExceeded: ${progressing.message ?? 'the rollout made no progress'}`,
      }
    }
    const updated = status.updatedReplicas ?? 0
    if (updated < wanted) {
      return { phase: 'waiting', message: `${updated} of ${wanted} new replicas have been updated` }
    }
    if ((status.replicas ?? 0) > updated) {
      return {
        phase: 'waiting',
        message: `${(status.replicas ?? 0) - updated} old replicas are pending termination`,
      }
    }
    if ((status.availableReplicas ?? 0) < updated) {
      return {
        phase: 'waiting',
        message: `${status.availableReplicas ?? 0} of ${updated} updated replicas are available`,
      }
    }
    return {
      phase: 'done',
      message: `successfully rolled out: ${updated} of ${wanted} replicas updated and available`,
    }
  }
  if ((status.readyReplicas ?? 0) < wanted) {
    return { phase: 'waiting', message: `${status.readyReplicas ?? 0} of ${wanted} pods are ready` }
  }
  const partition = spec?.updateStrategy?.rollingUpdate?.partition ?? 0
  if (partition > 0) {
    const updated = status.updatedReplicas ?? 0
    return updated < wanted - partition
      ? {
          phase: 'waiting',
          message: `partitioned rollout: ${updated} of ${wanted - partition} new pods have been updated`,
        }
      : {
          phase: 'done',
          message: `partitioned rollout complete: ${updated} new pods have been updated`,
        }
  }
  if (status.updateRevision !== status.currentRevision) {
    return {
      phase: 'waiting',
      message: `${status.updatedReplicas ?? 0} of ${wanted} pods are at revision ${status.updateRevision}`,
    }
  }
  return {
    phase: 'done',
    message: `rolling update complete: ${wanted} pods at revision ${status.currentRevision}`,
  }
}

/** Why each pod that is not ready is not: waiting reasons such as ImagePullBackOff first. */
export function podProblems(pods: Pod[]): string[] {
  const problems: string[] = []
  for (const pod of pods) {
    const name = pod.metadata.name ?? '?'
    for (const container of pod.status?.containerStatuses ?? []) {
      const { waiting, terminated } = container.state ?? {}
      if (waiting?.reason && waiting.reason !== 'ContainerCreating') {
        problems.push(
          `pod ${name}: container ${container.name} ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}`,
        )
      } else if (terminated && terminated.reason !== 'Completed') {
        problems.push(
          `pod ${name}: container ${container.name} terminated ${terminated.reason ?? ''} exit code ${terminated.exitCode ?? '?'}`,
        )
      }
    }
    const unscheduled = pod.status?.conditions?.find(
      (c) => c.type === 'PodScheduled' && c.status === 'False',
    )
    if (unscheduled) {
      problems.push(
        `pod ${name}: ${unscheduled.reason ?? 'Unschedulable'}${unscheduled.message ? ` (${unscheduled.message})` : ''}`,
      )
    }
  }
  return problems
}

/**
 * Polls the workload (and its pods, for their reasons) until the rollout is done, stalls past
 * its progress deadline, or ctx is aborted. Each new status and pod problem goes to ctx.log.
 */
export async function followRollout(
  client: KubernetesClient,
  kind: WorkloadKind,
  namespace: string,
  name: string,
  ctx: DriverContext,
  options: FollowOptions,
): Promise<RolloutResult> {
  const label = `${kind} ${namespace}/${name}`
  let lastMessage = ''
  const seenProblems = new Set<string>()
  // Polling, not watch: each decision needs the workload and its pods together, and a poll a
  // second costs two small GETs, against resourceVersion bookkeeping across two watches.
  let progressKey = ''
  let progressAt = Date.now()
  for (;;) {
    if (ctx.signal.aborted) {
      return {
        state: 'canceled',
        message: `canceled while the ${label} rollout was in progress (${lastMessage || 'not yet observed'})`,
      }
    }
    const workload = await client.readWorkload(kind, namespace, name)
    let status = rolloutStatus(kind, workload)
    const problems = await readPodProblems(client, namespace, workload)
    for (const problem of problems.filter((p) => !seenProblems.has(p))) {
      seenProblems.add(problem)
      ctx.log(`${label}: ${problem}`)
    }
    const counted = workload.status ?? {}
    if (
      status.phase === 'done' &&
      options.replicas !== undefined &&
      (counted.replicas !== options.replicas || (counted.readyReplicas ?? 0) !== options.replicas)
    ) {
      status = {
        phase: 'waiting',
        message: `${counted.readyReplicas ?? 0} of ${options.replicas} replicas ready, ${counted.replicas ?? 0} in all`,
      }
    }
    if (kind === 'StatefulSet' && status.phase === 'waiting') {
      const s = workload.status ?? {}
      const key = `${s.observedGeneration}/${s.replicas}/${s.readyReplicas}/${s.updatedReplicas}/${s.currentRevision}`
      if (key !== progressKey) {
        progressKey = key
        progressAt = Date.now()
      } else if (Date.now() - progressAt >= options.statefulSetDeadlineMs) {
        const allowed = formatDuration(options.statefulSetDeadlineMs)
        status = {
          phase: 'stalled',
          message: `no progress for ${allowed} (the service's deploy.healthTimeout): ${status.message}`,
        }
      }
    }
    if (status.message !== lastMessage) {
      lastMessage = status.message
      ctx.log(`${label}: ${status.message}`)
    }
    if (status.phase === 'done') {
      return { state: 'complete', workload, message: status.message }
    }
    if (status.phase === 'stalled') {
      return {
        state: 'stalled',
        message: `${label} rollout failed: ${status.message}`,
        podProblems: problems,
      }
    }
    await delay(options.pollMs, undefined, { signal: ctx.signal }).catch(() => undefined)
  }
}

async function readPodProblems(
  client: KubernetesClient,
  namespace: string,
  workload: Workload,
): Promise<string[]> {
  const selector = workload.spec?.selector
  if (!selector) {
    return []
  }
  return podProblems(await client.listPods(namespace, selectorString(selector)))
}
