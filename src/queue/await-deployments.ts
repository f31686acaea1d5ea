/**
 * Waits until deployments end, for `?wait=` and `--wait`. Local events wake it at once; a
 * slow poll of the store covers deployments that another instance runs.
 */
import type { EventBus } from '../events.ts'
import { FINAL_STATES, type Deployment } from '../model/index.ts'
import type { Store } from '../store/store.ts'

const POLL_MS = 500

/** The deployments once all have ended, or undefined when `timeoutMs` passes first. */
export async function awaitDeployments(
  store: Store,
  events: EventBus,
  ids: string[],
  timeoutMs: number,
): Promise<Deployment[] | undefined> {
  const deadline = Date.now() + timeoutMs
  let wake: () => void = () => {}
  const off = events.on('deployment:finished', ({ deployment }) => {
    if (ids.includes(deployment.id)) {
      wake()
    }
  })
  try {
    for (;;) {
      const current = await Promise.all(ids.map((id) => store.getDeployment(id)))
      if (current.every((d) => d !== undefined && FINAL_STATES.includes(d.state))) {
        return current as Deployment[]
      }
      const left = deadline - Date.now()
      if (left <= 0) {
        return undefined
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(POLL_MS, left))
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  } finally {
    off()
  }
}
