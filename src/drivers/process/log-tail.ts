/** Follows a replica's log file into a deployment log, and reads its last lines for errors. */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { StringDecoder } from 'node:string_decoder'

// Polling, not fs.watch: inotify events are coalesced and missing on some filesystems, and a
// 100 ms lag is invisible in a deployment log.
const POLL_MS = 100
const CHUNK_BYTES = 64 * 1024

/** Emits each complete line appended to `path` after `fromOffset`, until stopped. */
export class LogTail {
  #path: string
  #offset: number
  #partial = ''
  // A multi-byte character may be split across two reads.
  #decoder = new StringDecoder('utf8')
  #onLine: (line: string) => void
  #timer: NodeJS.Timeout

  constructor(path: string, fromOffset: number, onLine: (line: string) => void) {
    this.#path = path
    this.#offset = fromOffset
    this.#onLine = onLine
    this.#timer = setInterval(() => this.#read(), POLL_MS)
    this.#timer.unref()
  }

  /** Reads what is left, flushes an unterminated last line, and stops. */
  stop(): void {
    clearInterval(this.#timer)
    this.#read()
    if (this.#partial !== '') {
      this.#onLine(this.#partial)
      this.#partial = ''
    }
  }

  #read(): void {
    let fd: number
    try {
      fd = openSync(this.#path, 'r')
    } catch {
      return
    }
    try {
      const buffer = Buffer.alloc(CHUNK_BYTES)
      for (;;) {
        const read = readSync(fd, buffer, 0, CHUNK_BYTES, this.#offset)
        if (read === 0) {
          break
        }
        this.#offset += read
        const lines = (this.#partial + this.#decoder.write(buffer.subarray(0, read))).split('\n')
        this.#partial = lines.pop() ?? ''
        for (const line of lines) {
          this.#onLine(line)
        }
      }
    } finally {
      closeSync(fd)
    }
  }
}

/** The size of `path` now, so a tail can start after what is already there. */
export function fileSize(path: string): number {
  try {
    const fd = openSync(path, 'r')
    try {
      return fstatSync(fd).size
    } finally {
      closeSync(fd)
    }
  } catch {
    return 0
  }
}

/** The last `count` lines of `path` written after `fromOffset`; empty when there are none. */
export function readLastLines(path: string, count: number, fromOffset = 0): string[] {
  const size = fileSize(path)
  const start = Math.max(fromOffset, size - CHUNK_BYTES)
  if (size <= start) {
    return []
  }
  const fd = openSync(path, 'r')
  try {
    const buffer = Buffer.alloc(size - start)
    readSync(fd, buffer, 0, buffer.length, start)
    const lines = buffer.toString('utf8').split('\n')
    if (lines.at(-1) === '') {
      lines.pop()
    }
    return lines.slice(-count)
  } finally {
    closeSync(fd)
  }
}
