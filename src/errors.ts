/**
 * The error catalogue: every error a caller can see, with its stable code and HTTP status.
 * docs/errors.md has one anchor per code; errors.test.ts keeps the two in step.
 */

export const ERROR_CODES = {
  DH_ERR_AUTH_MISSING: 401,
  DH_ERR_AUTH_INVALID: 401,
  DH_ERR_AUTH_RATE_LIMITED: 429,
  DH_ERR_VALIDATION: 400,
  DH_ERR_NOT_FOUND: 404,
  DH_ERR_CONFLICT: 409,
  DH_ERR_TRIGGER_NAME_TAKEN: 409,
  DH_ERR_HOOK_NOT_FOUND: 404,
  DH_ERR_HOOK_SIGNATURE: 401,
  DH_ERR_HOOK_FORBIDDEN_IP: 403,
  DH_ERR_HOOK_BAD_PAYLOAD: 400,
  DH_ERR_HOOK_UNKNOWN_SERVICES: 400,
  DH_ERR_HOOK_RATE_LIMITED: 429,
  DH_ERR_HOOK_BODY_TOO_LARGE: 413,
  DH_ERR_HOOK_OVERLOADED: 503,
  DH_ERR_STORE_UNAVAILABLE: 503,
  DH_ERR_TOO_MANY_STREAMS: 503,
  DH_ERR_DRIVER_TARGET: 400,
  DH_ERR_DRIVER_UNAVAILABLE: 400,
  DH_ERR_INTERNAL: 500,
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export class DeckhandError extends Error {
  readonly code: ErrorCode
  readonly status: number

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'DeckhandError'
    this.code = code
    this.status = options?.status ?? ERROR_CODES[code]
  }
}

export const notFound = (what: string): DeckhandError =>
  new DeckhandError('DH_ERR_NOT_FOUND', `${what} does not exist; list them to see the names in use`)

export const invalid = (message: string): DeckhandError =>
  new DeckhandError('DH_ERR_VALIDATION', message)

export const conflict = (message: string): DeckhandError =>
  new DeckhandError('DH_ERR_CONFLICT', message)

/**
 * A trigger name an owner's live trigger already has (deckhand.yaml requires unique names). The
 * store answers it too, without `holderId`, when its unique index catches two creates at once.
 */
export const triggerNameTaken = (
  owner: { service?: string | null; stack?: string | null },
  name: string,
  holderId?: string,
): DeckhandError =>
  new DeckhandError(
    'DH_ERR_TRIGGER_NAME_TAKEN',
    `${owner.service ? `service ${owner.service}` : `stack ${owner.stack}`} already has a trigger named ${name}${holderId ? ` (${holderId})` : ''}; give this one another name, or revoke that one first`,
  )

export const storeUnavailable = (cause: unknown): DeckhandError =>
  new DeckhandError(
    'DH_ERR_STORE_UNAVAILABLE',
    'the store cannot commit right now; nothing was accepted, retry later',
    { cause },
  )

/** Turns anything thrown into an Error with a message, without losing the original. */
export function coerceError(thrown: unknown): Error {
  if (thrown instanceof Error) {
    return thrown
  }
  return new Error(typeof thrown === 'string' ? thrown : `non-error thrown: ${String(thrown)}`)
}
