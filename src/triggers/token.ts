/** Trigger and admin tokens: 32 random bytes as base64url, stored only as their SHA-256. */
import { hash, randomBytes } from 'node:crypto'

export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/

export function makeToken(): string {
  return randomBytes(32).toString('base64url')
}

export function hashToken(token: string): string {
  return hash('sha256', token, 'hex')
}
