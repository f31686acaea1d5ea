/** What every command shares: the connection and output flags, the client, printing, paging. */
import { type Command, InvalidArgumentError, Option } from 'commander'
import { ApiClient, resolveConnection } from './api-client.ts'
import { formatJson, type CliIo } from './output.ts'

export interface GlobalFlags {
  url?: string
  token?: string
  json?: boolean
}

/** Adds --url, --token and --json to a leaf command, so they work after the command's name. */
export function withGlobalFlags(command: Command, options: { json?: boolean } = {}): Command {
  command
    .addOption(new Option('--url <url>', 'server URL (env: DECKHAND_URL, default http://127.0.0.1:8080)'))
    .addOption(new Option('--token <token>', 'admin token (env: DECKHAND_TOKEN)'))
  if (options.json !== false) {
    command.option('--json', 'print JSON for scripts instead of a table')
  }
  return command
}

export function clientFor(flags: GlobalFlags, io: CliIo): ApiClient {
  return new ApiClient(resolveConnection({ url: flags.url, token: flags.token }, io.env))
}

/** Prints `value` as JSON under --json, else the text `human` renders. */
export function emit<T>(io: CliIo, flags: GlobalFlags, value: T, human: (value: T) => string): void {
  io.stdout(flags.json ? formatJson(value) : human(value))
}

export interface PageAnswer<T> {
  items: T[]
  next: string | null
}

/** Follows `next` cursors until `limit` items are gathered or the listing ends. */
export async function listAll<T>(
  client: ApiClient,
  path: string,
  query: Record<string, string | number | undefined>,
  limit: number,
): Promise<T[]> {
  const items: T[] = []
  let cursor: string | undefined
  do {
    const page = await client.request<PageAnswer<T>>(path, {
      query: { ...query, limit: Math.min(1000, limit - items.length), cursor },
    })
    items.push(...page.items)
    cursor = page.next ?? undefined
  } while (cursor !== undefined && items.length < limit)
  return items
}

/** commander argument parser for a whole number ≥ min; a bad value is a usage error (exit 2). */
export function wholeNumber(min = 0): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) < min) {
      throw new InvalidArgumentError(`expected a whole number of at least ${min}, got "${value}"`)
    }
    return Number(value)
  }
}

/** `a,b,c` → ['a','b','c'], repeatable flags accumulate. */
export function commaList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((part) => part.trim()).filter(Boolean)]
}

/** `--limit` on listings. */
export function withLimit(command: Command, fallback = 50): Command {
  return command.option('--limit <n>', 'how many to show, newest first', wholeNumber(1), fallback)
}

export const encode = encodeURIComponent
