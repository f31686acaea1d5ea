/** How results reach the terminal: aligned tables and key/value blocks for people, JSON for scripts. */

export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  env: Record<string, string | undefined>
  /** Now, for ages in tables; injectable so tests see stable text. */
  now: () => number
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
  return entries.map(([key, value]) => `${`${key}:`.padEnd(width + 2)}${cellText(value)}`).join('\n') + '\n'
}

export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n'
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
export function formatElapsed(from: string | null | undefined, to: string | null | undefined): string {
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
