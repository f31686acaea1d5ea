// kubectl's READY for one service, `ready/desired`, from its status; kept fresh in lists.
import type { Service } from './types.ts'
import { useApi } from './use-api.ts'

/** `ready/desired`, or why the numbers are not known. */
export function readyText(status: Service['status']): string {
  if (!status) {
    return ''
  }
  if (typeof status.ready === 'number' && typeof status.desired === 'number') {
    return `${status.ready}/${status.desired}`
  }
  return status.error ? 'unknown' : 'not visible'
}

export function ReadyCount({
  service,
  intervalMs = 5000,
}: {
  service: string
  intervalMs?: number
}) {
  const shown = useApi<Service>(`/services/${encodeURIComponent(service)}`, intervalMs)
  const status = shown.data?.status
  const text = readyText(status)
  const isShort =
    typeof status?.ready === 'number' &&
    typeof status.desired === 'number' &&
    status.ready < status.desired
  return (
    <span
      data-ready={service}
      className={isShort ? 'error' : undefined}
      title={status?.error ?? status?.detail}
    >
      {text}
    </span>
  )
}
