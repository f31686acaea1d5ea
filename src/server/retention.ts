/**
 * Runs Store.prune every `intervalMs`, off the hot path (a timer, never a call), so calls and
 * deployment logs stay within DECKHAND_RETAIN and DECKHAND_RETAIN_CALLS however many calls come.
 */
import type { Logger } from 'pino'

import type { Store } from '../store/store.ts'

export interface RetentionOptions {
  store: Pick<Store, 'prune'>
  logger: Logger
  retainMs: number
  retainCalls: number
  intervalMs: number
}

export interface Retention {
  /** Stops the timer and waits for a prune under way. */
  stop(): Promise<void>
}

export function startRetention({
  store,
  logger,
  retainMs,
  retainCalls,
  intervalMs,
}: RetentionOptions): Retention {
  let running: Promise<void> | undefined
  const pruneNow = () => {
    // A prune slower than the interval is not started twice.
    running ??= store
      .prune({ before: new Date(Date.now() - retainMs).toISOString(), keepCalls: retainCalls })
      .then(
        (pruned) => {
          if (pruned.calls > 0 || pruned.logLines > 0) {
            logger.info(
              pruned,
              `pruned ${pruned.calls} calls and ${pruned.logLines} log lines past DECKHAND_RETAIN`,
            )
          }
        },
        (error: unknown) =>
          logger.error(
            { err: error, code: 'DH_ERR_STORE_UNAVAILABLE' },
            'pruning failed; it runs again at the next interval',
          ),
      )
      .finally(() => {
        running = undefined
      })
  }
  const timer = setInterval(pruneNow, intervalMs)
  // The first run comes soon after start, not one interval later: a server restarted often
  // would otherwise never prune.
  const first = setTimeout(pruneNow, Math.min(intervalMs, 5_000))
  return {
    stop: async () => {
      clearInterval(timer)
      clearTimeout(first)
      await running
    },
  }
}
