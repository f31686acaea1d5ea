/** A stack as people write it: a name and the services it groups. */
import type { StackInput } from '../store/store.ts'
import { isRecord, NAME_PATTERN, NAME_RULE, type Parsed, ProblemList } from './problems.ts'

export const stackSpecSchema = {
  $id: 'Stack',
  type: 'object',
  required: ['name', 'services'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    services: { type: 'array', items: { type: 'string' } },
  },
} as const

/** A stack as the API answers it (as stored), for the OpenAPI document. */
export const stackViewSchema = {
  $id: 'StackView',
  description: 'a stack: a name and the services it groups',
  type: 'object',
  required: ['name', 'services', 'createdAt', 'updatedAt'],
  properties: {
    ...stackSpecSchema.properties,
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const

/** Checks the shape; whether the named services exist is the caller's check. */
export function parseStackSpec(input: unknown): Parsed<StackInput> {
  const problems = new ProblemList()
  if (!isRecord(input)) {
    return { ok: false, problems: [{ path: [], message: 'a stack must be an object' }] }
  }
  if (typeof input.name !== 'string' || !NAME_PATTERN.test(input.name)) {
    problems.add(['name'], `must be ${NAME_RULE}`)
  }
  const services = Array.isArray(input.services) ? input.services : []
  if (!Array.isArray(input.services)) {
    problems.add(['services'], 'must list the names of the services in the stack')
  }
  services.forEach((entry, index) => {
    if (typeof entry !== 'string' || !NAME_PATTERN.test(entry)) {
      problems.add(['services', index], `must be a service name (${NAME_RULE})`)
    }
  })
  if (new Set(services).size !== services.length) {
    problems.add(['services'], 'names a service twice')
  }
  return problems.ok
    ? { ok: true, value: { name: input.name as string, services: services as string[] } }
    : { ok: false, problems: problems.problems }
}
