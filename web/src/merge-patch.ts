// Text fields of a JSON merge patch (RFC 7396), as the settings forms send them.

/**
 * A field as typed, trimmed; emptied, it is null when the stored block has it (the API removes
 * it) and undefined when it does not (JSON leaves it out: a null there would be a bad value).
 */
export function patchText(value: string, stored: unknown): string | null | undefined {
  const trimmed = value.trim()
  return trimmed !== '' ? trimmed : stored === undefined ? undefined : null
}
