/**
 * Makes commits durable by flushing the WAL file ourselves. SQLite runs with synchronous=NORMAL,
 * so COMMIT writes its pages to the WAL but does not wait for the disk; fsync on our own
 * descriptor of that file flushes the whole file, whichever descriptor wrote it, so a commit
 * followed by `syncNow()` or a settled `sync()` is as durable as with synchronous=FULL.
 *
 * `sync()` runs the fsync on libuv's thread pool: the event loop goes on parsing the next calls,
 * and even commits the next group, while the disk catches up. Calls of that group are answered
 * when their own flush is done. At most one flush is in flight; the commits made meanwhile wait
 * for the next one, which covers them all.
 */
import { closeSync, fsync, fsyncSync, openSync } from 'node:fs'

interface Waiter {
  promise: Promise<void>
  resolve: () => void
  reject: (error: unknown) => void
}

export class WalSync {
  readonly #path: string
  #fd: number | undefined
  #inFlight = false
  #next: Waiter | undefined

  readonly #flush: typeof fsync

  /**
   * `databasePath` is the database file; its WAL is `<path>-wal`. `flush` is `fs.fsync`; a test
   * passes its own to hold a flush in flight and see who is answered by which.
   */
  constructor(databasePath: string, flush: typeof fsync = fsync) {
    this.#path = `${databasePath}-wal`
    this.#flush = flush
  }

  /** Flushes what is committed so far before returning. */
  syncNow(): void {
    fsyncSync(this.#descriptor())
  }

  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void> {
    // A flush already running may have started before the caller's commit: wait for the next.
    if (!this.#next) {
      let resolve!: () => void
      let reject!: (error: unknown) => void
      const promise = new Promise<void>((res, rej) => {
        resolve = res
        reject = rej
      })
      this.#next = { promise, resolve, reject }
    }
    const waiter = this.#next
    if (!this.#inFlight) {
      this.#start()
    }
    return waiter.promise
  }

  close(): void {
    if (this.#fd !== undefined) {
      closeSync(this.#fd)
      this.#fd = undefined
    }
  }

  #start(): void {
    const waiter = this.#next
    if (!waiter) {
      return
    }
    this.#next = undefined
    this.#inFlight = true
    let fd: number
    try {
      fd = this.#descriptor()
    } catch (error) {
      this.#inFlight = false
      waiter.reject(error)
      return
    }
    this.#flush(fd, (error) => {
      this.#inFlight = false
      if (error) {
        waiter.reject(error)
      } else {
        waiter.resolve()
      }
      this.#start()
    })
  }

  /** The WAL exists from the first write in WAL mode on, and stays while the database is open. */
  #descriptor(): number {
    this.#fd ??= openSync(this.#path, 'r')
    return this.#fd
  }
}
