/** Validation results that name the field at fault, so API errors and config files can point at it. */

export type FieldPath = (string | number)[]

export interface Problem {
  path: FieldPath
  message: string
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: Problem[] }

/** `deploy.healthTimeout`, `services[2]` — how a path reads in an error message. */
export function formatPath(path: FieldPath): string {
  return path.reduce<string>(
    (text, part) =>
      typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${part}` : part,
    '',
  )
}

export function formatProblems(problems: Problem[]): string {
  return problems
    .map((p) => (p.path.length ? `${formatPath(p.path)}: ${p.message}` : p.message))
    .join('; ')
}

/** Collects problems while reading an untrusted object field by field. */
export class ProblemList {
  readonly problems: Problem[] = []

  add(path: FieldPath, message: string): void {
    this.problems.push({ path, message })
  }

  get ok(): boolean {
    return this.problems.length === 0
  }
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Names of objects Deckhand stores: services, stacks, triggers. */
export const NAME_PATTERN = /^[a-z0-9]([a-z0-9-_.]{0,61}[a-z0-9])?$/
export const NAME_RULE =
  'lower-case letters, digits, "-", "_" or ".", 1–63 characters, starting and ending with a letter or digit'
