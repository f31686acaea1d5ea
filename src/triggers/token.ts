/** Trigger and admin tokens: 32 random bytes as base64url, stored only as their SHA-256. */
import { hash, randomBytes } from 'node:crypto'

import { knownSecrets } from '../model/secret-redactor.ts'

export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/

export function makeToken(): string {
  const token = randomBytes(32).toString('base64url')
  knownSecrets.remember(token)
  return token
}

export function hashToken(token: string): string {
  return hash('sha256', token, 'hex')
}
