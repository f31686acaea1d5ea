/** The docker driver's target: one container, a Compose service, or a label selector. */
import { DeckhandError } from '../../errors.ts'

export const COMPOSE_PROJECT = 'com.docker.compose.project'
export const COMPOSE_SERVICE = 'com.docker.compose.service'
export const COMPOSE_NUMBER = 'com.docker.compose.container-number'
export const COMPOSE_ONEOFF = 'com.docker.compose.oneoff'

export type DockerTarget =
  | { kind: 'container'; container: string }
  | { kind: 'compose'; project: string; service: string }
  | { kind: 'labels'; labels: Record<string, string> }

// Docker's own rule for container names (daemon/names.go), without the leading slash.
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/

/** Problems with a docker target, as sentences naming the field; empty when valid. */
export function checkDockerTarget(target: Record<string, unknown>): string[] {
  const problems: string[] = []
  const keys = Object.keys(target)
  const unknown = keys.filter((key) => !['container', 'project', 'service', 'labels'].includes(key))
  for (const key of unknown) {
    problems.push(
      `target.${key} is not a docker target field; use {"container"}, {"project", "service"} or {"labels"}`,
    )
  }
  const forms = [
    'container' in target,
    'project' in target || 'service' in target,
    'labels' in target,
  ].filter(Boolean).length
  if (forms === 0) {
    problems.push(
      'target.container, target.project with target.service, or target.labels is required',
    )
    return problems
  }
  if (forms > 1) {
    problems.push(
      'target.container, target.project/service and target.labels exclude each other; use one',
    )
    return problems
  }
  if ('container' in target) {
    const name = target.container
    if (typeof name !== 'string' || !CONTAINER_NAME.test(name.replace(/^\//, ''))) {
      problems.push('target.container must be a container name such as "web"')
    }
  } else if ('labels' in target) {
    const labels = target.labels
    if (!labels || typeof labels !== 'object' || Array.isArray(labels)) {
      problems.push('target.labels must be an object of label names to values')
    } else if (Object.keys(labels).length === 0) {
      problems.push('target.labels must name at least one label, or it would match every container')
    } else if (Object.values(labels).some((value) => typeof value !== 'string')) {
      problems.push('target.labels values must be strings')
    }
  } else {
    for (const field of ['project', 'service'] as const) {
      const value = target[field]
      if (typeof value !== 'string' || value.trim() === '') {
        problems.push(`target.${field} must be a non-empty string (the Compose ${field} name)`)
      }
    }
  }
  return problems
}

/** The checked target; throws DH_ERR_DRIVER_TARGET with every problem when it is not valid. */
export function parseDockerTarget(target: Record<string, unknown>): DockerTarget {
  const problems = checkDockerTarget(target)
  if (problems.length > 0) {
    throw new DeckhandError('DH_ERR_DRIVER_TARGET', problems.join('; '))
  }
  if (typeof target.container === 'string') {
    return { kind: 'container', container: target.container.replace(/^\//, '') }
  }
  if (target.labels) {
    return { kind: 'labels', labels: { ...(target.labels as Record<string, string>) } }
  }
  return { kind: 'compose', project: String(target.project), service: String(target.service) }
}

/** The selector in words, for messages: what was looked for. */
export function describeTarget(target: DockerTarget): string {
  switch (target.kind) {
    case 'container':
      return `container "${target.container}"`
    case 'compose':
      return `Compose service "${target.service}" of project "${target.project}" (labels ${COMPOSE_PROJECT}=${target.project}, ${COMPOSE_SERVICE}=${target.service})`
    case 'labels':
      return `labels ${Object.entries(target.labels)
        .map(([key, value]) => `${key}=${value}`)
        .join(', ')}`
  }
}

/** Engine label filters for a Compose or labels target. */
export function labelFilters(target: DockerTarget): string[] {
  switch (target.kind) {
    case 'container':
      return []
    case 'compose':
      return [`${COMPOSE_PROJECT}=${target.project}`, `${COMPOSE_SERVICE}=${target.service}`]
    case 'labels':
      return Object.entries(target.labels).map(([key, value]) => `${key}=${value}`)
  }
}
