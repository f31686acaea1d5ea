/**
 * What differs between the containers found and what Deckhand last deployed: a replica removed
 * by hand, or one added beside it (`docker compose up -d --scale`), reported in status.drift.
 */
import { containerName } from './compose-scale.ts'
import type { ContainerInspect } from './docker-client.ts'
import { COMPOSE_NUMBER, type DockerTarget } from './docker-target.ts'

/** Sentences naming what differs; empty when the runtime matches, or Deckhand never set a count. */
export function replicaDrift(
  target: DockerTarget,
  deployed: number | null,
  found: ContainerInspect[],
): string[] {
  if (deployed === null || found.length === deployed) {
    return []
  }
  if (target.kind === 'compose') {
    // Compose numbers replicas 1..n, so the missing ones can be named.
    const numbers = new Set(
      found.map((container) => Number(container.Config.Labels?.[COMPOSE_NUMBER])),
    )
    const missing: string[] = []
    for (let number = 1; number <= deployed; number++) {
      if (!numbers.has(number)) {
        missing.push(`${target.project}-${target.service}-${number}`)
      }
    }
    const extra = found
      .filter((container) => !(Number(container.Config.Labels?.[COMPOSE_NUMBER]) <= deployed))
      .map(containerName)
    return [
      ...missing.map(
        (name) =>
          `replica ${name} is missing (Deckhand deployed ${deployed}, ${found.length} found)`,
      ),
      ...extra.map(
        (name) => `replica ${name} was not deployed by Deckhand (it deployed ${deployed})`,
      ),
    ]
  }
  return [`Deckhand deployed ${deployed} replicas, ${found.length} found`]
}
