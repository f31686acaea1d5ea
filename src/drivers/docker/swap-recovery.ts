/** Undoes what an interrupted swap left behind, and waits for an engine that went away mid-swap. */
import { setTimeout as delay } from 'node:timers/promises'

import type { DriverContext } from '../driver.ts'
import type { ContainerSummary, DockerClient } from './docker-client.ts'
import { engineStatus, toFilters } from './docker-client.ts'
import type { DockerTarget } from './docker-target.ts'
import { labelFilters } from './docker-target.ts'

/**
 * Makes the service whole again before a redeploy or scale touches it.
 *
 * A swap leaves containers under transient names only when it was cut short: the engine went
 * away past the wait in swapReplica, or Deckhand itself died. The rule is the one a failed
 * swap follows, so an interrupted deployment ends as a failed one would have:
 * - a new container under its temporary name (`--deckhand-next-`) never finished its swap and
 *   is removed;
 * - a parked old container (`--deckhand-old-`) whose name nobody holds is the service's last
 *   whole version: it gets its name back and is started, since it was parked only while a
 *   replacement ran in its place (the newest one when several are parked);
 * - a parked old container whose name is held was already replaced, and is removed as
 *   finishSwap would have.
 */
export async function recoverInterruptedSwaps(
  client: DockerClient,
  target: DockerTarget,
  ctx: DriverContext,
): Promise<void> {
  const byName = new Map<string, Leftover[]>()
  for (const summary of await listLeftovers(client, target)) {
    for (const name of summary.Names.map((name) => name.replace(/^\//, ''))) {
      const parts = transientParts(name)
      if (parts && (target.kind !== 'container' || parts.name === target.container)) {
        const leftover = { summary, name, kind: parts.kind }
        byName.set(parts.name, [...(byName.get(parts.name) ?? []), leftover])
      }
    }
  }
  for (const [name, leftovers] of byName) {
    for (const { summary, name: leftover } of leftovers.filter(({ kind }) => kind === 'next')) {
      await client.getContainer(summary.Id).remove({ force: true }).catch(ignoreMissing)
      ctx.log(`${name}: removed ${leftover}, the new container of an interrupted deployment`)
    }
    const parked = leftovers.filter(({ kind }) => kind === 'old')
    const isNameHeld = await client
      .getContainer(name)
      .inspect()
      .then(
        () => true,
        (error: unknown) => (engineStatus(error) === 404 ? false : Promise.reject(error)),
      )
    // listContainers answers newest first: the first parked one is the latest whole version.
    const restore = isNameHeld ? undefined : parked[0]
    const replaced = parked.filter((leftover) => leftover !== restore)
    if (restore) {
      const container = client.getContainer(restore.summary.Id)
      await container.rename({ name })
      if (restore.summary.State !== 'running') {
        await container.start()
      }
      ctx.log(
        `${name}: restored ${restore.summary.Id.slice(0, 12)} as ${name}, the old container an interrupted deployment had parked as ${restore.name}`,
      )
    }
    for (const { summary, name: leftover } of replaced) {
      await client.getContainer(summary.Id).remove({ force: true }).catch(ignoreMissing)
      ctx.log(`${name}: removed ${leftover}, an old container an interrupted deployment replaced`)
    }
  }
}

/** True when the engine answers a ping now. */
export function engineAnswers(client: DockerClient): Promise<boolean> {
  return client.ping().then(
    () => true,
    () => false,
  )
}

/** True once the engine answers ping; false when `withinMs` passes or `signal` aborts first. */
export async function waitForEngine(
  client: DockerClient,
  withinMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  const deadline = Date.now() + withinMs
  for (;;) {
    // Pinged before the signal is looked at: a canceled deployment still rolls back when it can.
    if (await engineAnswers(client)) {
      return true
    }
    if (signal.aborted || Date.now() >= deadline) {
      return false
    }
    await delay(200, undefined, { signal }).catch(() => undefined)
  }
}

interface Leftover {
  summary: ContainerSummary
  name: string
  kind: 'next' | 'old'
}

async function listLeftovers(
  client: DockerClient,
  target: DockerTarget,
): Promise<ContainerSummary[]> {
  // The name filter matches a substring; transientParts keeps the exact matches.
  const filters: Record<string, string[]> =
    target.kind === 'container'
      ? { name: [`${target.container}--deckhand-`] }
      : { label: labelFilters(target) }
  return client.listContainers({ all: true, filters: toFilters(filters) })
}

/** The service's container name and the kind of a swap's transient name, else null. */
export function transientParts(name: string): { name: string; kind: 'next' | 'old' } | null {
  const match = /^(.+)--deckhand-(next|old)-[a-z0-9]+$/.exec(name)
  return match ? { name: match[1]!, kind: match[2] as 'next' | 'old' } : null
}

function ignoreMissing(error: unknown): void {
  if (engineStatus(error) !== 404) {
    throw error
  }
}
