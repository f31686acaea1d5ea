/**
 * A deployment's log on its way to the store: lines are grouped and written every 100 ms (one
 * transaction per group instead of per line) and announced to live followers as they land.
 */
import type { Logger } from 'pino'

import type { EventBus } from '../events.ts'
import type { LogLine } from '../model/index.ts'
import { redactSecrets } from '../model/secret-redactor.ts'
import type { LogStore } from '../store/store.ts'

const FLUSH_MS = 100
const MAX_LINE_CHARS = 8192

export class LogBuffer {
  #store: LogStore
  #events: EventBus
  #deploymentId: string
  #logger: Logger
  #pending: Omit<LogLine, 'seq'>[] = []
  #timer: NodeJS.Timeout | undefined
  #writing: Promise<void> = Promise.resolve()
  #seq = 0

  constructor(store: LogStore, events: EventBus, deploymentId: string, logger: Logger) {
    this.#store = store
    this.#events = events
    this.#deploymentId = deploymentId
    this.#logger = logger
  }

  write(line: string, stream: LogLine['stream'] = 'deckhand'): void {
    // Redacted before the cut, so a secret at the limit is not left half-visible.
    const clean = redactSecrets(line)
    const text =
      clean.length > MAX_LINE_CHARS ? `${clean.slice(0, MAX_LINE_CHARS)}… (line cut)` : clean
    this.#pending.push({ at: new Date().toISOString(), stream, line: text })
    this.#timer ??= setTimeout(() => this.#flush(), FLUSH_MS)
  }

  #flush(): Promise<void> {
    this.#timer = undefined
    const lines = this.#pending
    this.#pending = []
    if (lines.length === 0) {
      return this.#writing
    }
    this.#writing = this.#writing
      .then(() => this.#store.appendLog(this.#deploymentId, lines))
      .then(() => {
        const numbered = lines.map((line) => ({ ...line, seq: ++this.#seq }))
        this.#events.emit('deployment:log', { deploymentId: this.#deploymentId, lines: numbered })
      })
      .catch((error: unknown) => {
        this.#logger.error(
          { err: error, deployment: this.#deploymentId, code: 'DH_ERR_STORE_UNAVAILABLE' },
          'deployment log lines were lost',
        )
      })
    return this.#writing
  }

  /** Writes what is pending and waits for it. */
  async close(): Promise<void> {
    clearTimeout(this.#timer)
    await this.#flush()
  }
}
