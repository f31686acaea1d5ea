/**
 * Waits until deployments end, for `?wait=` and `--wait`. Local events wake it at once, and so
 * does another instance sharing the store when it records an end (`deployment:remote-change`);
 * a slow poll of the store covers a lost notification.
 */
import type { EventBus } from '../events.ts'
import { type Deployment, FINAL_STATES } from '../model/index.ts'
import type { QueueStore } from '../store/store.ts'

const POLL_MS = 500

/** The deployments once all have ended, or undefined when `timeoutMs` passes first. */
export async function awaitDeployments(
  store: Pick<QueueStore, 'getDeployment'>,
  events: EventBus,
  ids: string[],
  timeoutMs: number,
  pollMs = POLL_MS,
): Promise<Deployment[] | undefined> {
  const deadline = Date.now() + timeoutMs
  // A wake-up while the store is being read is kept: the next wait is skipped, not slept through.
  let woken = false
  let wake: () => void = () => (woken = true)
  const offFinished = events.on('deployment:finished', ({ deployment }) => {
    if (ids.includes(deployment.id)) {
      wake()
    }
  })
  const offRemote = events.on('deployment:remote-change', ({ deploymentId }) => {
    if (ids.includes(deploymentId)) {
      wake()
    }
  })
  try {
    for (;;) {
      woken = false
      const current = await Promise.all(ids.map((id) => store.getDeployment(id)))
      if (current.every((d) => d !== undefined && FINAL_STATES.includes(d.state))) {
        return current as Deployment[]
      }
      const left = deadline - Date.now()
      if (left <= 0) {
        return undefined
      }
      if (woken) {
        continue
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(pollMs, left))
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      wake = () => (woken = true)
    }
  } finally {
    offFinished()
    offRemote()
  }
}
