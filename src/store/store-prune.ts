/**
 * Retention: deletes calls past their age or count bound and the log lines of deployments that
 * ended long ago, in small batches with a turn of the event loop between them, so a backlog of
 * millions of rows never holds the SQLite writer (or a PostgreSQL lock) for long. Each backend
 * supplies the three statements (PruneSteps); the walk is shared.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'

export interface PruneOptions {
  /** ISO time: calls received and deployments ended before it lose their rows and log lines. */
  before: string
  /** At most this many calls are kept, the newest. */
  keepCalls: number
}

export interface PruneResult {
  calls: number
  logLines: number
}

/** One deployment as the log walk sees it. */
export interface PruneDeployment {
  seq: number
  id: string
  /** Created before `before`: every later one (by seq) is about as new, so the walk ends. */
  old: boolean
  /** Ended before `before`: its log lines go. */
  ended: boolean
}

/** The statements a backend runs for pruning, each its own short transaction. */
export interface PruneSteps {
  /**
   * Among the `batch` oldest calls (by seq), deletes those received before `before` or not among
   * the newest `keep`; answers how many went.
   */
  deleteCalls(before: string, keep: number, batch: number): Promise<number>
  /** Up to `batch` deployments after `afterSeq`, oldest first. */
  deploymentsAfter(afterSeq: number, before: string, batch: number): Promise<PruneDeployment[]>
  /** Deletes every log line of these deployments; answers how many went. */
  deleteLogs(deploymentIds: string[]): Promise<number>
}

// 2,000 call rows take about 5 ms to delete on SQLite on the 2-core test machine: short
// enough that calls arriving meanwhile wait no longer than for one grouped commit.
const CALL_BATCH = 2000
const DEPLOYMENT_BATCH = 200

export class StorePruner {
  #steps: PruneSteps
  /** Deployments up to this seq have had their logs pruned; the walk starts after it. */
  #logsDoneThroughSeq = 0

  constructor(steps: PruneSteps) {
    this.#steps = steps
  }

  async prune({ before, keepCalls }: PruneOptions): Promise<PruneResult> {
    let calls = 0
    for (;;) {
      // Calls are received in about seq order, so once the oldest batch is not all prunable,
      // nothing newer is: stopping there keeps every run to the rows it deletes.
      const deleted = await this.#steps.deleteCalls(before, keepCalls, CALL_BATCH)
      calls += deleted
      if (deleted < CALL_BATCH) {
        break
      }
      await nextTurn()
    }
    return { calls, logLines: await this.#pruneLogs(before) }
  }

  async #pruneLogs(before: string): Promise<number> {
    let logLines = 0
    let after = this.#logsDoneThroughSeq
    // A deployment still running (or queued) past `before` holds the cursor back, so it is
    // looked at again next time; those after it are pruned now all the same.
    let contiguous = true
    for (;;) {
      const rows = await this.#steps.deploymentsAfter(after, before, DEPLOYMENT_BATCH)
      const ended: string[] = []
      let reachedNew = false
      for (const row of rows) {
        if (!row.old) {
          reachedNew = true
          break
        }
        if (row.ended) {
          ended.push(row.id)
        }
        contiguous &&= row.ended
        if (contiguous) {
          this.#logsDoneThroughSeq = row.seq
        }
        after = row.seq
      }
      if (ended.length > 0) {
        logLines += await this.#steps.deleteLogs(ended)
      }
      if (reachedNew || rows.length < DEPLOYMENT_BATCH) {
        return logLines
      }
      await nextTurn()
    }
  }
}
