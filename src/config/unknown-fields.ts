/** Names fields a schema does not know (typos such as `healthTimout`), with the closest known one. */
import { type FieldPath, isRecord, type Problem } from '../specs/problems.ts'

interface ObjectSchema {
  type?: unknown
  additionalProperties?: unknown
  properties?: Record<string, unknown>
}

/** Walks `value` along the JSON schema; only objects with `additionalProperties: false` are closed. */
export function unknownFields(value: unknown, schema: unknown, path: FieldPath = []): Problem[] {
  const problems: Problem[] = []
  const s = schema as ObjectSchema
  if (!isRecord(value) || !isRecord(s) || !isRecord(s.properties)) {
    return problems
  }
  const known = Object.keys(s.properties)
  for (const [key, item] of Object.entries(value)) {
    const property = s.properties[key]
    if (property === undefined) {
      if (s.additionalProperties === false) {
        const guess = closest(key, known)
        problems.push({
          path: [...path, key],
          message: `is not a known field${guess ? `; did you mean ${guess}?` : ''} (known: ${known.join(', ')})`,
        })
      }
      continue
    }
    problems.push(...unknownFields(item, property, [...path, key]))
  }
  return problems
}

/** The known name within edit distance 2 of `word`, if any. */
function closest(word: string, candidates: string[]): string | undefined {
  let best: { name: string; distance: number } | undefined
  for (const name of candidates) {
    const distance = editDistance(word.toLowerCase(), name.toLowerCase())
    if (distance <= 2 && (!best || distance < best.distance)) {
      best = { name, distance }
    }
  }
  return best?.name
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      )
    }
    previous = current
  }
  return previous[b.length]!
}
