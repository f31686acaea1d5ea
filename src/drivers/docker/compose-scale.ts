/** Compose numbering for scaled replicas: which numbers to add, which containers to remove. */
import type { ContainerInspect } from './docker-client.ts'
import { COMPOSE_NUMBER, COMPOSE_PROJECT, COMPOSE_SERVICE } from './docker-target.ts'
import type { Replacement } from './recreate.ts'
import { replacementFor } from './recreate.ts'

export interface ComposeIdentity {
  project: string
  service: string
  /** `-` for Compose v2 names (`shop-web-1`), `_` for v1 (`shop_web_1`), kept as found. */
  separator: '-' | '_'
}

/** The project and service every container shares, or a sentence saying why there is none. */
export function composeIdentity(containers: ContainerInspect[]): ComposeIdentity | string {
  const first = containers[0]
  const project = first?.Config.Labels?.[COMPOSE_PROJECT]
  const service = first?.Config.Labels?.[COMPOSE_SERVICE]
  if (!first || !project || !service) {
    return `scaling clones Compose replicas, and the matched containers carry no ${COMPOSE_PROJECT} / ${COMPOSE_SERVICE} labels; target a Compose service or label the containers`
  }
  const other = containers.find(
    (container) =>
      container.Config.Labels?.[COMPOSE_PROJECT] !== project ||
      container.Config.Labels?.[COMPOSE_SERVICE] !== service,
  )
  if (other) {
    return `the matched containers belong to more than one Compose service (${containerName(other)} is not ${project}/${service}); narrow the target`
  }
  const separator = containerName(first).startsWith(`${project}_${service}_`) ? '_' : '-'
  return { project, service, separator }
}

/** The container's Compose number, or 0 when it has none. */
export function composeNumber(container: ContainerInspect): number {
  const number = Number(container.Config.Labels?.[COMPOSE_NUMBER])
  return Number.isInteger(number) && number > 0 ? number : 0
}

/** Containers ordered by Compose number, then name, the order `docker compose ps` lists them. */
export function byComposeNumber(containers: ContainerInspect[]): ContainerInspect[] {
  return [...containers].sort(
    (a, b) =>
      composeNumber(a) - composeNumber(b) || containerName(a).localeCompare(containerName(b)),
  )
}

/** Compose v2 gives a new replica the highest number in use plus one; so do we. */
export function nextNumbers(containers: ContainerInspect[], count: number): number[] {
  const highest = Math.max(0, ...containers.map(composeNumber))
  return Array.from({ length: count }, (_, index) => highest + index + 1)
}

/** The create options for replica `number`, cloned from `template` with `env` merged in. */
export function cloneOptions(
  template: ContainerInspect,
  identity: ComposeIdentity,
  number: number,
  env: Record<string, string>,
): Replacement {
  const name = [identity.project, identity.service, String(number)].join(identity.separator)
  // Same image as the template, so copying its whole Config (null image defaults) is exact.
  const replacement = replacementFor(
    template,
    null,
    template.Config.Image ?? template.Image,
    env,
    name,
  )
  const { options } = replacement
  options.Labels = { ...options.Labels, [COMPOSE_NUMBER]: String(number) }
  const templateName = containerName(template)
  const endpoints = [
    ...Object.values(options.NetworkingConfig?.EndpointsConfig ?? {}),
    ...replacement.extraNetworks.map(([, endpoint]) => endpoint),
  ]
  for (const endpoint of endpoints) {
    endpoint.Aliases = (endpoint.Aliases ?? []).filter((alias) => alias !== templateName)
  }
  return replacement
}

export function containerName(container: ContainerInspect): string {
  return container.Name.replace(/^\//, '')
}
