/**
 * Change windows (`deploy.windows`): parsing `days`, `hours` and `timezone`, and asking whether
 * one is open at an instant or when the next one opens. Wall times are read in the window's
 * zone with Intl, so 09:00 Berlin is 08:00 UTC in winter and 07:00 UTC in summer. Pure; every
 * answer costs a bounded number of Intl calls (MAX_WINDOWS windows, 8 days each).
 */
import { type ChangeWindow, MAX_WINDOWS } from '../model/index.ts'

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
const DAY_MS = 86_400_000
const MINUTE_MS = 60_000

/** A window as checked: the days it opens on (0 = Sunday), its minutes of the day, its zone. */
export interface ParsedWindow {
  days: ReadonlySet<number>
  /** Minutes after midnight at which it opens. */
  start: number
  /** Minutes after midnight at which it closes; at or before `start` when it runs past midnight. */
  end: number
  timezone: string
}

export type WindowParse =
  { ok: true; value: ParsedWindow } | { ok: false; field: string; error: string }

/** `mon-fri`, `sat,sun`, `mon-wed,fri`: ranges wrap, so `fri-mon` is Friday to Monday. */
export function parseDays(text: string): ReadonlySet<number> | undefined {
  if (text.length > 64) {
    return undefined
  }
  const days = new Set<number>()
  for (const part of text.toLowerCase().split(',')) {
    const [from, to, extra] = part.trim().split('-')
    const first = DAY_NAMES.indexOf(from?.trim() as (typeof DAY_NAMES)[number])
    const last =
      to === undefined ? first : DAY_NAMES.indexOf(to.trim() as (typeof DAY_NAMES)[number])
    if (first < 0 || last < 0 || extra !== undefined) {
      return undefined
    }
    for (let day = first; ; day = (day + 1) % 7) {
      days.add(day)
      if (day === last) {
        break
      }
    }
  }
  return days
}

const CLOCK = /^([01]\d|2[0-3]):([0-5]\d)$/

function minutesOf(text: string | undefined): number | undefined {
  const match = CLOCK.exec(text?.trim() ?? '')
  return match ? Number(match[1]) * 60 + Number(match[2]) : undefined
}

/** `09:00-17:00`, or `22:00-02:00` for a window that closes the next day; the end may be 24:00. */
export function parseHours(text: string): { start: number; end: number } | undefined {
  if (text.length > 16) {
    return undefined
  }
  const [from, to, extra] = text.split('-')
  const start = minutesOf(from)
  const end = to?.trim() === '24:00' ? 24 * 60 : minutesOf(to)
  if (start === undefined || end === undefined || extra !== undefined || start === end) {
    return undefined
  }
  return { start, end }
}

/** True when Intl knows `zone` as an IANA time zone (`Europe/Berlin`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  if (zone.length === 0 || zone.length > 64) {
    return false
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone })
    return true
  } catch {
    return false
  }
}

/** A window as written, checked; the failing field is named (`days`, `hours`, `timezone`). */
export function parseWindow(window: ChangeWindow): WindowParse {
  const days = typeof window.days === 'string' ? parseDays(window.days) : undefined
  if (!days) {
    return {
      ok: false,
      field: 'days',
      error: 'must be days such as mon-fri, sat,sun or mon-wed,fri',
    }
  }
  const hours = typeof window.hours === 'string' ? parseHours(window.hours) : undefined
  if (!hours) {
    return {
      ok: false,
      field: 'hours',
      error: 'must be a time range such as 09:00-17:00, or 22:00-02:00 past midnight',
    }
  }
  if (typeof window.timezone !== 'string' || !isTimeZone(window.timezone)) {
    return {
      ok: false,
      field: 'timezone',
      error: 'must be an IANA time zone such as Europe/Berlin',
    }
  }
  return { ok: true, value: { days, ...hours, timezone: window.timezone } }
}

/** Windows as stored were checked when written; one that no longer parses never opens. */
function parseAll(windows: readonly ChangeWindow[]): ParsedWindow[] {
  return windows.slice(0, MAX_WINDOWS).flatMap((w) => {
    const parsed = parseWindow(w)
    return parsed.ok ? [parsed.value] : []
  })
}

// One formatter per zone: building one costs far more than formatting with it. Zones are
// validated names, a finite set, so the map stays small.
const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(zone: string): Intl.DateTimeFormat {
  let format = formatters.get(zone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(zone, format)
  }
  return format
}

/** The wall clock of `instant` in `zone`, as if it were UTC (ms). */
function wallClock(instant: number, zone: string): number {
  const parts: Record<string, number> = {}
  for (const part of formatter(zone).formatToParts(instant)) {
    if (part.type !== 'literal') {
      parts[part.type] = Number(part.value)
    }
  }
  return Date.UTC(
    parts.year!,
    parts.month! - 1,
    parts.day!,
    parts.hour!,
    parts.minute!,
    parts.second!,
  )
}

/**
 * The first instant whose wall clock in `zone` is `wall` or later: the instant itself on a
 * normal day, the earlier one when autumn repeats the hour, the end of the gap when spring
 * skips it (a window opening at 02:30 on that day opens at 03:00).
 */
function instantOf(wall: number, zone: string): number {
  const offsets = [wall - 12 * 3_600_000, wall + 12 * 3_600_000].map(
    (t) => wallClock(t, zone) - Math.floor(t / 1000) * 1000,
  )
  const candidates = offsets.map((offset) => wall - offset).sort((a, b) => a - b)
  const exact = candidates.find((t) => wallClock(t, zone) === wall)
  if (exact !== undefined) {
    return exact
  }
  // In a gap: the wall clock jumps past `wall` between the two candidates; find the minute.
  let low = candidates[0]!
  let high = candidates[1]!
  while (high - low > MINUTE_MS) {
    const middle = low + Math.floor((high - low) / 2 / MINUTE_MS) * MINUTE_MS
    if (wallClock(middle, zone) >= wall) {
      high = middle
    } else {
      low = middle
    }
  }
  return high
}

function isOpenIn(window: ParsedWindow, now: number): boolean {
  const wall = wallClock(now, window.timezone)
  const midnight = Math.floor(wall / DAY_MS) * DAY_MS
  const minute = Math.floor((wall - midnight) / MINUTE_MS)
  const day = new Date(midnight).getUTCDay()
  if (window.start < window.end) {
    return window.days.has(day) && minute >= window.start && minute < window.end
  }
  // Past midnight: open from the start on one of its days, and until the end on the day after.
  return (
    (window.days.has(day) && minute >= window.start) ||
    (window.days.has((day + 6) % 7) && minute < window.end)
  )
}

/** True when `now` (ms) falls inside one of the windows. */
export function isOpen(windows: readonly ChangeWindow[], now: number): boolean {
  return parseAll(windows).some((w) => isOpenIn(w, now))
}

/**
 * When the next window opens (ms): `now` itself while one is open; undefined when none ever
 * does (no windows parse). Each window opens within eight days of any instant.
 */
export function nextOpening(windows: readonly ChangeWindow[], now: number): number | undefined {
  const parsed = parseAll(windows)
  if (parsed.some((w) => isOpenIn(w, now))) {
    return now
  }
  let next: number | undefined
  for (const window of parsed) {
    const today = Math.floor(wallClock(now, window.timezone) / DAY_MS) * DAY_MS
    for (let k = 0; k <= 8; k++) {
      const midnight = today + k * DAY_MS
      if (!window.days.has(new Date(midnight).getUTCDay())) {
        continue
      }
      const opening = instantOf(midnight + window.start * MINUTE_MS, window.timezone)
      if (opening > now) {
        next = next === undefined ? opening : Math.min(next, opening)
        break
      }
    }
  }
  return next
}
