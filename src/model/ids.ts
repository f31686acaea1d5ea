/** Identifiers: a short type prefix and 64 random bits, readable in a table and a log. */
import { randomBytes } from 'node:crypto'

export type IdPrefix = 'dpl' | 'call' | 'trg' | 'tok'

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBytes(8).toString('hex')}`
}
