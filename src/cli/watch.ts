/**
 * `-w/--watch` (kubectl's habit): ask the API again every interval and print the view anew when
 * it changed: the table as printed, or for -o json|yaml the answer. Ends on SIGINT or SIGTERM with exit 0; a failed request ends it
 * with that request's error, as `kubectl get -w` ends when its watch closes.
 */
import { setTimeout as delay } from 'node:timers/promises'

import { type Command, InvalidArgumentError, Option } from 'commander'

import { parseDuration } from '../model/duration.ts'
import { type GlobalFlags, outputOf, render } from './command-kit.ts'
import type { CliIo } from './output.ts'

export interface WatchFlags {
  watch?: boolean
  watchInterval: number
}

/** The API is asked at most this often, whatever --watch-interval says: a watch must not flood the server. */
const SMALLEST_INTERVAL_MS = 100

/** Adds -w/--watch and --watch-interval to a read command. */
export function withWatch(command: Command): Command {
  return command
    .option(
      '-w, --watch',
      'keep running and print the view again whenever it changes (Ctrl-C ends)',
    )
    .addOption(
      new Option(
        '--watch-interval <duration>',
        'how often --watch asks the server, e.g. 500ms or 5s',
      )
        .argParser(parseInterval)
        .default(2000, '2s'),
    )
}

function parseInterval(text: string): number {
  const ms = parseDuration(/^\d+$/.test(text) ? `${text}s` : text)
  if (ms === undefined || ms < SMALLEST_INTERVAL_MS) {
    throw new InvalidArgumentError(
      `expected a duration of at least ${SMALLEST_INTERVAL_MS}ms such as 2s; got "${text}"`,
    )
  }
  return ms
}

/**
 * Prints `fetch()`'s answer once, or under --watch every time its view differs from the last.
 * On a terminal each view replaces the last (the screen is cleared); elsewhere views follow one
 * another: JSON as one object per line, YAML as documents, tables after a blank line.
 */
export async function showOrWatch<T>(
  io: CliIo,
  flags: GlobalFlags & WatchFlags,
  fetch: () => Promise<T>,
  human: (value: T, wide: boolean) => string,
): Promise<void> {
  if (!flags.watch) {
    io.stdout(render(flags, await fetch(), human))
    return
  }
  const format = outputOf(flags)
  const controller = new AbortController()
  const stop = (): void => controller.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    let last: string | undefined
    let views = 0
    while (!controller.signal.aborted) {
      const value = await fetch()
      // A table compares as printed: an answer whose only change is a field no column shows
      // (an instance's "up 5s" detail, a timestamp) would print the same table again.
      const seen =
        format === 'json' || format === 'yaml'
          ? JSON.stringify(value)
          : human(value, format === 'wide')
      if (seen !== last) {
        last = seen
        io.stdout(viewText(format, value, human, views, io.isTerminal === true))
        views += 1
      }
      // Aborting the pause is the way out of the loop, not an error.
      await delay(flags.watchInterval, undefined, { signal: controller.signal }).catch(
        () => undefined,
      )
    }
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
}

function viewText<T>(
  format: ReturnType<typeof outputOf>,
  value: T,
  human: (value: T, wide: boolean) => string,
  views: number,
  terminal: boolean,
): string {
  if (format === 'json') {
    return `${JSON.stringify(value)}\n`
  }
  if (format === 'yaml') {
    return `---\n${render({ output: 'yaml' }, value, human)}`
  }
  const text = human(value, format === 'wide')
  if (terminal) {
    // Cursor home and clear screen (ECMA-48 CUP and ED), as `watch(1)` redraws.
    return `\u001b[H\u001b[2J${text}`
  }
  return views === 0 ? text : `\n${text}`
}
