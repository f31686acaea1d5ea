/**
 * Identifiers: a short type prefix, the creation time and 48 random bits, readable in a table
 * and a log. Time first, so ids sort by creation and a database index takes each new id at its
 * end: with random ids every call dirtied its own page of the calls index, and a group of
 * calls wrote tens of pages to the WAL instead of a few.
 */
import { randomFillSync } from 'node:crypto'

export type IdPrefix = 'dpl' | 'call' | 'trg' | 'tok'

/** Milliseconds are counted from 2025-01-01, so ten hex digits last until 2059. */
const EPOCH_MS = Date.UTC(2025, 0, 1)
const TIME_DIGITS = 10
const RANDOM_BYTES = 6
/**
 * Random bytes are drawn a pool at a time: one getrandom per id cost ~15 µs under load on a
 * virtual machine, more than the rest of naming a call.
 */
const pool = Buffer.alloc(RANDOM_BYTES * 512)
let offset = pool.length

export function newId(prefix: IdPrefix): string {
  if (offset === pool.length) {
    randomFillSync(pool)
    offset = 0
  }
  offset += RANDOM_BYTES
  const time = (Date.now() - EPOCH_MS).toString(16).padStart(TIME_DIGITS, '0')
  return `${prefix}_${time}${pool.toString('hex', offset - RANDOM_BYTES, offset)}`
}
