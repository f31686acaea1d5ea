// Times and durations as people read them in a table.

export function formatTime(iso: string | null): string {
  if (!iso) {
    return '—'
  }
  const date = new Date(iso)
  const sameDay = date.toDateString() === new Date().toDateString()
  return sameDay ? date.toLocaleTimeString() : date.toLocaleString()
}

/** Date and time in full, whatever the day: for audit trails, where "10:02" alone misleads. */
export function formatFullTime(iso: string | null): string {
  if (!iso) {
    return '—'
  }
  return new Date(iso).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  })
}

export function formatDuration(startIso: string | null, endIso: string | null): string {
  if (!startIso) {
    return '—'
  }
  const ms = (endIso ? Date.parse(endIso) : Date.now()) - Date.parse(startIso)
  if (ms < 1000) {
    return `${Math.max(ms, 0)} ms`
  }
  const seconds = Math.round(ms / 1000)
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} m ${seconds % 60} s`
}

const RELATIVE_UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
]

/** "in 2 hours", "in 5 minutes", "now": how far off a time is, in its largest whole-ish unit. */
export function formatFromNow(iso: string, now = Date.now()): string {
  const ms = Date.parse(iso) - now
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })
  // Days only from two on: "in 1 day" for 36 hours would hide half a day.
  for (const [unit, size] of RELATIVE_UNITS) {
    if (Math.abs(ms) >= size * (unit === 'day' ? 2 : 1)) {
      return format.format(Math.round(ms / size), unit)
    }
  }
  return format.format(Math.round(ms / 1000), 'second')
}
