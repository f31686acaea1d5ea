/** What every command shares: the connection and output flags, the client, printing, paging. */
import { type Command, InvalidArgumentError, Option } from 'commander'

import { ApiClient, resolveConnection } from './api-client.ts'
import { usageError } from './exit-codes.ts'
import { type CliIo, formatData, OUTPUT_FORMATS, type OutputFormat } from './output.ts'

export interface GlobalFlags {
  url?: string
  token?: string
  context?: string
  output?: OutputFormat
  json?: boolean
}

/** Adds the connection flags and -o/--json to a leaf command, so they work after the command's name. */
export function withGlobalFlags(command: Command): Command {
  return command
    .addOption(
      new Option('--url <url>', 'server URL (env: DECKHAND_URL, default http://127.0.0.1:8080)'),
    )
    .addOption(new Option('--token <token>', 'admin token (env: DECKHAND_TOKEN)'))
    .addOption(
      new Option(
        '--context <name>',
        'use this context of the config file (see `deckhand context ls`)',
      ),
    )
    .addOption(
      new Option('-o, --output <format>', 'table (default), wide, json or yaml').choices(
        OUTPUT_FORMATS,
      ),
    )
    .option('--json', 'same as -o json')
}

export function clientFor(flags: GlobalFlags, io: CliIo): ApiClient {
  return new ApiClient(
    resolveConnection({ url: flags.url, token: flags.token, context: flags.context }, io.env),
  )
}

/** The format asked for: `--json` is `-o json`; asking for two different ones is bad usage. */
export function outputOf(flags: GlobalFlags): OutputFormat {
  if (flags.json && flags.output !== undefined && flags.output !== 'json') {
    throw usageError(`--json and -o ${flags.output} ask for two formats; pick one`)
  }
  return flags.json ? 'json' : (flags.output ?? 'table')
}

/** True when the output is for a program (json or yaml), not for a person. */
export const isForScripts = (flags: GlobalFlags): boolean => {
  const format = outputOf(flags)
  return format === 'json' || format === 'yaml'
}

/** Renders `value` as JSON or YAML under -o json|yaml, else as the text `human` renders (wide: more columns). */
export function render<T>(
  flags: GlobalFlags,
  value: T,
  human: (value: T, wide: boolean) => string,
): string {
  const format = outputOf(flags)
  return format === 'json' || format === 'yaml'
    ? formatData(value, format)
    : human(value, format === 'wide')
}

/** Prints what render() makes of `value`. */
export function emit<T>(
  io: CliIo,
  flags: GlobalFlags,
  value: T,
  human: (value: T, wide: boolean) => string,
): void {
  io.stdout(render(flags, value, human))
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
  return [
    ...previous,
    ...value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  ]
}

/** `--limit` on listings. */
export function withLimit(command: Command, fallback = 50): Command {
  return command.option('--limit <n>', 'how many to show, newest first', wholeNumber(1), fallback)
}

export const encode = encodeURIComponent
