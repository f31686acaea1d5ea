/**
 * The secrets this process knows (trigger tokens and secrets, admin tokens, values the config file
 * took from `${VAR}`) and the one function that takes them out of text Deckhand records: every
 * deployment log line and every deployment error pass through `redactSecrets`, so the GET answers,
 * `?wait=` answers, notifications and GitHub statuses built from them carry `[redacted]` too.
 */

export const REDACTED = '[redacted]'

// Shorter values are too likely to be ordinary words ("true", a port) to cut out of logs.
const MIN_SECRET_CHARS = 8
// Bounded, so that a flood of calls cannot grow memory or the cost of one redaction; the oldest
// secret is forgotten first (a trigger called again is learned again).
const MAX_SECRETS = 512

export class SecretRedactor {
  #secrets = new Set<string>()
  #pattern: RegExp | undefined

  /** Learns values to redact from now on; short and empty ones are ignored. */
  remember(...values: (string | null | undefined)[]): void {
    for (const value of values) {
      if (
        value === null ||
        value === undefined ||
        value.length < MIN_SECRET_CHARS ||
        this.#secrets.has(value)
      ) {
        continue
      }
      this.#secrets.add(value)
      if (this.#secrets.size > MAX_SECRETS) {
        this.#secrets.delete(this.#secrets.values().next().value!)
      }
      this.#pattern = undefined
    }
  }

  /** `text` with every known secret replaced by `[redacted]`. */
  redact(text: string): string {
    if (this.#secrets.size === 0) {
      return text
    }
    // Longest first, so a secret that contains another is cut whole.
    this.#pattern ??= new RegExp(
      [...this.#secrets]
        .sort((a, b) => b.length - a.length)
        .map((secret) => secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('|'),
      'g',
    )
    return text.replace(this.#pattern, REDACTED)
  }
}

/** The process's secrets: servers in one process share it, which only ever redacts more. */
export const knownSecrets = new SecretRedactor()

export function redactSecrets(text: string): string {
  return knownSecrets.redact(text)
}
