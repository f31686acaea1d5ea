/** The admin tokens seam: the API's bearer tokens, found by their hash (server/admin-token.ts). */
import type { AdminToken, Page, PageRequest } from '../model/index.ts'

export interface TokenStore {
  /** How many admin tokens exist (none: the server makes the first one at start). */
  countAdminTokens(): Promise<number>
  /** Stores a token's hash under its id and name; the token itself is never stored. */
  createAdminToken(input: { id: string; name: string; tokenHash: string }): Promise<AdminToken>
  /** Admin tokens, newest first, without their hashes. */
  listAdminTokens(page: PageRequest): Promise<Page<AdminToken>>
  /** Deletes the token; false when unknown. */
  deleteAdminToken(id: string): Promise<boolean>
  /** The admin token whose hash matches; undefined when unknown. */
  useAdminToken(tokenHash: string): Promise<AdminToken | undefined>
}
