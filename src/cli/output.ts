/** How results reach the terminal: aligned tables and key/value blocks for people, JSON or YAML for scripts. */
import { stringify } from 'yaml'

/** The values of `-o`: a table, a table with more columns, or the API's objects as JSON or YAML. */
export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  env: Record<string, string | undefined>
  /** Now, for ages in tables; injectable so tests see stable text. */
  now: () => number
  /** stdout is a terminal: --watch redraws the screen instead of printing view after view. */
  isTerminal?: boolean
}

export interface Column<T> {
  header: string
  value: (row: T) => unknown
  /** Right-align (numbers). */
  right?: boolean
}

/** Renders rows as a table whose columns are as wide as their widest cell, two spaces apart. */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((column) => cellText(column.value(row))))
  const widths = columns.map((column, index) =>
    Math.max(column.header.length, ...cells.map((line) => line[index]!.length)),
  )
  const render = (line: string[]): string =>
    line
      .map((cell, index) =>
        columns[index]!.right ? cell.padStart(widths[index]!) : cell.padEnd(widths[index]!),
      )
      .join('  ')
      .trimEnd()
  return [render(columns.map((column) => column.header)), ...cells.map(render)].join('\n') + '\n'
}

/** `key: value` lines with the values aligned; nested objects are shown as compact JSON. */
export function formatFields(fields: Record<string, unknown>): string {
  const entries = Object.entries(fields).filter(([, value]) => value !== undefined)
  const width = Math.max(0, ...entries.map(([key]) => key.length))
  return (
    entries.map(([key, value]) => `${`${key}:`.padEnd(width + 2)}${cellText(value)}`).join('\n') +
    '\n'
  )
}

export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n'
}

/** The API's objects for scripts; YAML keeps every key in JSON's order (no aliases, so `yq` reads it as JSON). */
export function formatData(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json'
    ? formatJson(value)
    : stringify(value, { aliasDuplicateObjects: false, lineWidth: 0 })
}

/** `{"command":"x","env":{"A":"1"}}` → `command=x env.A=1`: an object on one line, for a table cell. */
export function describeObject(value: unknown, prefix = ''): string | null {
  if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) {
    return value === null || value === undefined ? null : cellText(value)
  }
  const parts = Object.entries(value as Record<string, unknown>).map(([key, inner]) =>
    typeof inner === 'object' && inner !== null && !Array.isArray(inner)
      ? describeObject(inner, `${prefix}${key}.`)
      : `${prefix}${key}=${cellText(inner)}`,
  )
  return parts.filter(Boolean).join(' ') || null
}

/** The first line of a text, cut to `width` characters with an ellipsis; null stays null. */
export function firstLine(text: string | null | undefined, width = Infinity): string | null {
  if (!text) {
    return null
  }
  const lines = text.trim().split(/\r?\n/)
  const line = lines[0]!.trim()
  const more = lines.length > 1
  if (line.length > width) {
    return `${line.slice(0, width - 1)}…`
  }
  return more ? `${line} …` : line
}

function cellText(value: unknown): string {
  if (value === null || value === undefined || value === '') {
    return '-'
  }
  if (typeof value === 'string') {
    return value.replace(/\s+/g, ' ')
  }
  if (typeof value === 'object') {
    return JSON.stringify(value)
  }
  return String(value)
}

/** `3s ago`, `5m ago`, `2h ago`, `4d ago`: enough to tell recent from old at a glance. */
export function formatAge(iso: string | null | undefined, now: number): string {
  if (!iso) {
    return '-'
  }
  const then = Date.parse(iso)
  if (Number.isNaN(then)) {
    return iso
  }
  const seconds = Math.max(0, Math.round((now - then) / 1000))
  if (seconds < 60) {
    return `${seconds}s ago`
  }
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)}m ago`
  }
  if (seconds < 86_400) {
    return `${Math.floor(seconds / 3600)}h ago`
  }
  return `${Math.floor(seconds / 86_400)}d ago`
}

/** Elapsed time between two ISO instants: `850ms`, `12.3s`, `4m05s`. */
export function formatElapsed(
  from: string | null | undefined,
  to: string | null | undefined,
): string {
  if (!from || !to) {
    return '-'
  }
  const ms = Date.parse(to) - Date.parse(from)
  if (!Number.isFinite(ms) || ms < 0) {
    return '-'
  }
  if (ms < 1000) {
    return `${ms}ms`
  }
  if (ms < 60_000) {
    return `${(ms / 1000).toFixed(1)}s`
  }
  const minutes = Math.floor(ms / 60_000)
  return `${minutes}m${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}s`
}
