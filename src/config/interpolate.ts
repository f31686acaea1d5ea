/** `${NAME}` in deckhand.yaml strings, so tokens and secrets live in the environment, not in git. */
import { knownSecrets } from '../model/secret-redactor.ts'
import { type FieldPath, isRecord, type Problem } from '../specs/problems.ts'

// `$${X}` is a literal `${X}`; `${X:-fallback}` uses the fallback when X is unset or empty.
const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

export interface Interpolated {
  value: unknown
  problems: Problem[]
}

/**
 * Replaces references in every string of `value`; an unset variable is a problem at its field,
 * or, with `keepMissing`, stays as written (checking a file where the secrets are not set).
 */
export function interpolateEnv(
  value: unknown,
  env: Record<string, string | undefined>,
  options: { keepMissing?: boolean } = {},
): Interpolated {
  const problems: Problem[] = []
  const walk = (node: unknown, at: FieldPath): unknown => {
    if (typeof node === 'string') {
      return node.replace(
        REFERENCE,
        (match, name: string | undefined, fallback: string | undefined) => {
          if (name === undefined) {
            return '$'
          }
          const found = env[name]
          if (found !== undefined && found !== '') {
            // What the file keeps out of git is a secret wherever Deckhand records text.
            knownSecrets.remember(found)
            return found
          }
          if (fallback !== undefined) {
            return fallback
          }
          if (options.keepMissing) {
            return match
          }
          problems.push({
            path: at,
            message: `environment variable ${name} is not set (the file says ${match})`,
          })
          return ''
        },
      )
    }
    if (Array.isArray(node)) {
      return node.map((item, index) => walk(item, [...at, index]))
    }
    if (isRecord(node)) {
      return Object.fromEntries(
        Object.entries(node).map(([key, item]) => [key, walk(item, [...at, key])]),
      )
    }
    return node
  }
  return { value: walk(value, []), problems }
}
