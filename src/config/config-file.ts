/**
 * deckhand.yaml: read, interpolate `${ENV}`, and validate with the same parsers as the API, so a
 * mistake is reported as `file:line: field: what is wrong` before anything is applied.
 */
import { readFileSync } from 'node:fs'

import { LineCounter, parseDocument, type YAMLError } from 'yaml'

import type { TriggerOptions } from '../model/index.ts'
import { type FieldPath, formatPath, isRecord, type Problem } from '../specs/problems.ts'
import { parseServiceSpec, serviceSpecSchema, type TargetChecker } from '../specs/service-spec.ts'
import { parseStackSpec, stackSpecSchema } from '../specs/stack-spec.ts'
import { parseTriggerSpec, triggerSpecSchema } from '../specs/trigger-spec.ts'
import type { ServiceInput, StackInput } from '../store/store.ts'
import { TOKEN_PATTERN } from '../triggers/token.ts'
import { interpolateEnv } from './interpolate.ts'
import { defaultTargetChecker } from './target-checkers.ts'
import { unknownFields } from './unknown-fields.ts'
import { lineOf } from './yaml-positions.ts'

/** One declared object, with where it was declared for errors raised while applying it. */
interface Declared {
  /** `deckhand.yaml:12`, prefixed to apply-time errors. */
  at: string
}

export interface ConfigService extends Declared {
  /** The fields as written (after interpolation): what the API would receive. */
  spec: Record<string, unknown>
  input: ServiceInput
}

export interface ConfigStack extends Declared {
  input: StackInput
}

export interface ConfigTrigger extends Declared {
  owner: { service: string } | { stack: string }
  spec: Record<string, unknown>
  options: TriggerOptions
  /** The URL token; never printed. */
  token: string
}

export interface DeckhandConfig {
  file: string
  /** Delete services and stacks, and revoke triggers of declared owners, the file no longer declares. */
  prune: boolean
  services: ConfigService[]
  stacks: ConfigStack[]
  triggers: ConfigTrigger[]
}

/** A file refused at start; `errors` are `file:line: field: what is wrong` lines. */
export class ConfigFileError extends Error {
  readonly errors: string[]

  constructor(errors: string[]) {
    super(errors.join('\n'))
    this.name = 'ConfigFileError'
    this.errors = errors
  }
}

export type ConfigLoad = { ok: true; config: DeckhandConfig } | { ok: false; errors: string[] }

export interface ConfigOptions {
  /** The server's drivers check targets; without it, the built-in target checks run. */
  checkTarget?: TargetChecker
  /** Skip `${VAR}` checks, for `config validate` in CI where tokens are not set. */
  ignoreMissingEnv?: boolean
  /** The server's `DECKHAND_DRIVERS`, when known: a service on another driver is refused before anything is applied. */
  enabledDrivers?: readonly string[]
}

const fileSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { version: {}, prune: {}, services: {}, stacks: {}, triggers: {} },
} as const

/** A trigger in the file: the API's fields, its owner and its URL token. */
export const configTriggerSchema = {
  ...triggerSpecSchema,
  properties: { ...triggerSpecSchema.properties, service: {}, stack: {}, token: {} },
} as const

const TOKEN_HINT =
  'must be 43 base64url characters (32 random bytes); make one with ' +
  '`openssl rand -base64 32 | tr "+/" "-_" | tr -d =` and put it in an environment variable'

export function loadConfigFile(
  path: string,
  env: Record<string, string | undefined>,
  options: ConfigOptions = {},
): ConfigLoad {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    return {
      ok: false,
      errors: [
        `${path}: cannot read the config file (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      ],
    }
  }
  return parseConfigText(text, path, env, options)
}

export function parseConfigText(
  text: string,
  file: string,
  env: Record<string, string | undefined>,
  options: ConfigOptions = {},
): ConfigLoad {
  const name = file
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false })
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map(
        (error) => `${name}:${syntaxPosition(error, lines)}: ${error.message.split('\n')[0]}`,
      ),
    }
  }
  const problems: Problem[] = []
  const raw: unknown = doc.toJS() ?? {}
  if (!isRecord(raw)) {
    return {
      ok: false,
      errors: [`${name}:1: the file must be a map with services, stacks and triggers`],
    }
  }
  const interpolated = interpolateEnv(raw, env, { keepMissing: options.ignoreMissingEnv === true })
  problems.push(...interpolated.problems)
  const root = interpolated.value as Record<string, unknown>
  problems.push(...unknownFields(root, fileSchema))
  if (root.prune !== undefined && typeof root.prune !== 'boolean') {
    problems.push({ path: ['prune'], message: 'must be true or false' })
  }
  const at = (path: FieldPath): string => `${name}:${lineOf(doc, lines, path)}`
  const checkTarget = options.checkTarget ?? defaultTargetChecker
  const config: DeckhandConfig = {
    file: name,
    prune: root.prune === true,
    services: [],
    stacks: [],
    triggers: [],
  }

  const services = listAt(root, 'services', problems)
  const serviceNames = new Set<string>()
  services.forEach((spec, index) => {
    const path = ['services', index]
    problems.push(...unknownFields(spec, serviceSpecSchema, path))
    const parsed = parseServiceSpec(spec, checkTarget)
    if (!parsed.ok) {
      problems.push(...parsed.problems.map((p) => refineTargetProblem(path, p)))
      return
    }
    if (serviceNames.has(parsed.value.name)) {
      problems.push({
        path: [...path, 'name'],
        message: `service ${parsed.value.name} is declared twice`,
      })
    }
    serviceNames.add(parsed.value.name)
    if (options.enabledDrivers && !options.enabledDrivers.includes(parsed.value.driver)) {
      problems.push({
        path: [...path, 'driver'],
        message: `driver ${parsed.value.driver} is not enabled on this server (DECKHAND_DRIVERS=${options.enabledDrivers.join(',')})`,
      })
    }
    config.services.push({
      at: at(path),
      spec: spec as Record<string, unknown>,
      input: parsed.value,
    })
  })

  const stacks = listAt(root, 'stacks', problems)
  const stackNames = new Set<string>()
  stacks.forEach((spec, index) => {
    const path = ['stacks', index]
    problems.push(...unknownFields(spec, stackSpecSchema, path))
    const parsed = parseStackSpec(spec)
    if (!parsed.ok) {
      problems.push(...parsed.problems.map((p) => ({ ...p, path: [...path, ...p.path] })))
      return
    }
    if (stackNames.has(parsed.value.name)) {
      problems.push({
        path: [...path, 'name'],
        message: `stack ${parsed.value.name} is declared twice`,
      })
    }
    stackNames.add(parsed.value.name)
    config.stacks.push({ at: at(path), input: parsed.value })
  })

  const triggers = listAt(root, 'triggers', problems)
  const triggerKeys = new Set<string>()
  const tokens = new Set<string>()
  triggers.forEach((entry, index) => {
    const path = ['triggers', index]
    if (!isRecord(entry)) {
      problems.push({
        path,
        message: 'a trigger must be a map with service or stack, action and token',
      })
      return
    }
    problems.push(...unknownFields(entry, configTriggerSchema, path))
    const { service, stack, token, ...spec } = entry
    let owner: ConfigTrigger['owner'] | undefined
    if ((service === undefined) === (stack === undefined)) {
      problems.push({
        path,
        message: 'name exactly one of service or stack, the owner of the trigger',
      })
    } else if (service !== undefined) {
      owner = typeof service === 'string' ? { service } : undefined
      if (!owner) {
        problems.push({ path: [...path, 'service'], message: 'must be a service name' })
      }
    } else {
      owner = typeof stack === 'string' ? { stack } : undefined
      if (!owner) {
        problems.push({ path: [...path, 'stack'], message: 'must be a stack name' })
      }
    }
    // An unset variable is already reported; a second message about its empty value adds noise.
    const unresolved =
      (options.ignoreMissingEnv && typeof token === 'string' && token.includes('${')) ||
      interpolated.problems.some((p) => p.path.join('.') === [...path, 'token'].join('.'))
    if (!unresolved && (typeof token !== 'string' || !TOKEN_PATTERN.test(token))) {
      problems.push({
        path: [...path, 'token'],
        message:
          token === undefined
            ? `is required: token: \${SOME_VARIABLE}; it ${TOKEN_HINT}`
            : TOKEN_HINT,
      })
    } else if (!unresolved && typeof token === 'string' && tokens.has(token)) {
      problems.push({
        path: [...path, 'token'],
        message: 'is the token of another trigger in this file; each needs its own',
      })
    }
    const parsed = parseTriggerSpec(spec)
    if (!parsed.ok) {
      problems.push(...parsed.problems.map((p) => ({ ...p, path: [...path, ...p.path] })))
      return
    }
    if (!owner || typeof token !== 'string') {
      return
    }
    const key = `${'service' in owner ? `service ${owner.service}` : `stack ${owner.stack}`} trigger ${parsed.value.name}`
    if (triggerKeys.has(key)) {
      problems.push({
        path: [...path, 'name'],
        message: `${key} is declared twice; give each trigger of an owner its own name`,
      })
    }
    triggerKeys.add(key)
    tokens.add(token)
    config.triggers.push({ at: at(path), owner, spec, options: parsed.value, token })
  })

  problems.push(...referenceProblems(stacks, triggers, namesIn(services), namesIn(stacks)))

  if (problems.length > 0) {
    const sorted = problems
      .map((p) => ({ line: lineOf(doc, lines, p.path), problem: p }))
      .sort((a, b) => a.line - b.line)
    return {
      ok: false,
      errors: sorted.map(
        ({ line, problem }) =>
          `${name}:${line}: ${problem.path.length ? `${formatPath(problem.path)}: ` : ''}${problem.message}`,
      ),
    }
  }
  return { ok: true, config }
}

/**
 * Names a stack or trigger uses must be declared in the same file: serve applies the file as a
 * whole, so a reference to a service it does not declare would fail half way through.
 */
function referenceProblems(
  stacks: unknown[],
  triggers: unknown[],
  serviceNames: Set<string>,
  stackNames: Set<string>,
): Problem[] {
  const problems: Problem[] = []
  stacks.forEach((spec, index) => {
    const members = isRecord(spec) && Array.isArray(spec.services) ? spec.services : []
    members.forEach((member, position) => {
      if (typeof member === 'string' && !serviceNames.has(member)) {
        problems.push({
          path: ['stacks', index, 'services', position],
          message: `names service ${member}, which this file does not declare`,
        })
      }
    })
  })
  triggers.forEach((entry, index) => {
    if (!isRecord(entry)) {
      return
    }
    if (
      typeof entry.service === 'string' &&
      entry.stack === undefined &&
      !serviceNames.has(entry.service)
    ) {
      problems.push({
        path: ['triggers', index, 'service'],
        message: `names service ${entry.service}, which this file does not declare`,
      })
    }
    if (
      typeof entry.stack === 'string' &&
      entry.service === undefined &&
      !stackNames.has(entry.stack)
    ) {
      problems.push({
        path: ['triggers', index, 'stack'],
        message: `names stack ${entry.stack}, which this file does not declare`,
      })
    }
  })
  return problems
}

/** The names entries declare, parsed or not, so one broken service does not also break every reference to it. */
function namesIn(entries: unknown[]): Set<string> {
  return new Set(
    entries.flatMap((entry) =>
      isRecord(entry) && typeof entry.name === 'string' ? [entry.name] : [],
    ),
  )
}

/** `line:column` of a YAML syntax error, from the offset the parser reports. */
function syntaxPosition(error: YAMLError, lines: LineCounter): string {
  const { line, col } = error.linePos?.[0] ?? lines.linePos(error.pos[0])
  return `${line}:${col}`
}

function listAt(root: Record<string, unknown>, key: string, problems: Problem[]): unknown[] {
  const value = root[key]
  if (value === undefined || value === null) {
    return []
  }
  if (!Array.isArray(value)) {
    problems.push({ path: [key], message: `must be a list (each entry starts with "- ")` })
    return []
  }
  return value
}

/** Driver checks say `target.command must be …`; point the error at that field, not at target. */
function refineTargetProblem(base: FieldPath, problem: Problem): Problem {
  if (problem.path.length === 1 && problem.path[0] === 'target') {
    const match = /^target((?:\.[A-Za-z0-9_]+)+)\s+(.*)$/s.exec(problem.message)
    if (match) {
      return { path: [...base, 'target', ...match[1]!.slice(1).split('.')], message: match[2]! }
    }
  }
  return { ...problem, path: [...base, ...problem.path] }
}
