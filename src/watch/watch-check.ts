/**
 * One check of one repository for every watched service on it: one tags list for the services
 * with a tag policy, one manifest HEAD per tag for the `same` ones, then what each service
 * should do. No store and no timers here: the watcher (watcher.ts) schedules and records.
 */
import type { Service } from '../model/index.ts'
import type { WatchCheck } from '../model/watch-check.ts'
import { tagPolicyOf } from '../policy/tag-policy.ts'
import { parseImageName } from '../registry/image-name.ts'
import type { RegistryClient } from '../registry/registry-client.ts'
import { apiHostOf } from '../registry/registry-endpoint.ts'
import { newestAllowedTag } from './newest-tag.ts'

/** The part of the registry client a watch asks. */
export type WatchRegistry = Pick<RegistryClient, 'manifestIfChanged' | 'tagsIfChanged'>

/** `host/repository`: the key that at most one check is in flight for. */
export function watchedRepository(service: Service): { host: string; repository: string } | null {
  const name = service.image ? parseImageName(service.image) : null
  return name ? { host: name.host, repository: name.repository } : null
}

/** The tag a service runs, as far as Deckhand knows. */
export function runningTag(service: Service): string | null {
  return service.tag ?? (service.image ? parseImageName(service.image)?.tag : null) ?? null
}

/** What a check found for one service; `change` when it should be redeployed. */
export interface ServiceVerdict {
  found: Pick<WatchCheck, 'outcome' | 'answer' | 'tag' | 'digest' | 'etag'>
  change?: { tag: string; reason: string }
}

export interface WatchedService {
  service: Service
  /** Its last check, when there was one. */
  previous: WatchCheck | undefined
  /** The digest its last successful deployment ran, when recorded. */
  runningDigest: string | null
}

/** The tags list last read per repository, kept to answer a `304 Not Modified`. */
export type TagsCache = Map<string, { etag: string; tags: string[] }>

const short = (digest: string | null): string => (digest ? digest.slice(0, 19) : 'none')

/**
 * Asks the registry once for everything the services on `host/repository` need; a refusal
 * (RegistryError) rejects, and the watcher backs off the whole repository.
 */
export async function checkRepository(
  registry: WatchRegistry,
  at: { host: string; repository: string },
  watched: WatchedService[],
  tagsCache: TagsCache,
  signal?: AbortSignal,
): Promise<Map<string, ServiceVerdict>> {
  // Docker Hub's API lives on another host than the one its image references name.
  const host = apiHostOf(at.host)
  const key = `${at.host}/${at.repository}`
  const verdicts = new Map<string, ServiceVerdict>()
  const byPolicy = watched.filter((w) => w.service.watch?.tags !== 'same')
  if (byPolicy.length > 0) {
    const cached = tagsCache.get(key)
    const answer = await registry.tagsIfChanged(host, at.repository, {
      etag: cached?.etag ?? null,
      signal,
    })
    const tags = answer.notModified ? (cached?.tags ?? []) : answer.tags
    const etag = answer.notModified ? (cached?.etag ?? null) : answer.etag
    if (!answer.notModified) {
      if (answer.etag) {
        tagsCache.set(key, { etag: answer.etag, tags })
      } else {
        tagsCache.delete(key)
      }
    }
    for (const w of byPolicy) {
      verdicts.set(w.service.name, byTagPolicy(w, key, tags, etag))
    }
  }
  const digests = new Map<string, Awaited<ReturnType<WatchRegistry['manifestIfChanged']>>>()
  for (const w of watched.filter((w) => w.service.watch?.tags === 'same')) {
    const tag = runningTag(w.service) ?? 'latest'
    const etag = w.previous?.tag === tag ? w.previous.etag : null
    let answer = digests.get(tag)
    if (answer === undefined) {
      answer = await registry.manifestIfChanged(host, at.repository, tag, { etag, signal })
      digests.set(tag, answer)
    }
    verdicts.set(w.service.name, bySameTag(w, key, tag, answer))
  }
  return verdicts
}

function byTagPolicy(
  w: WatchedService,
  key: string,
  tags: string[],
  etag: string | null,
): ServiceVerdict {
  const current = runningTag(w.service)
  const text = w.service.watch!.tags
  const policy = tagPolicyOf(text)
  const newest = policy.ok ? newestAllowedTag(tags, current, policy.policy) : undefined
  if (newest === undefined) {
    const why = policy.ok ? `no tag newer than ${current ?? '(none)'}` : policy.error
    return {
      found: {
        outcome: 'unchanged',
        answer: `${why} that ${text} allows among ${tags.length} tags of ${key}`,
        tag: current,
        digest: null,
        etag,
      },
    }
  }
  // A change already asked for (or refused) is not asked again at each interval, whatever
  // became of it: a deployment that failed on that tag is not repeated until a newer one.
  if (w.previous?.tag === newest) {
    return {
      found: {
        outcome: 'unchanged',
        answer: `${key}:${newest} is the newest tag ${text} allows; already asked for`,
        tag: newest,
        digest: null,
        etag,
      },
    }
  }
  return {
    found: { outcome: 'changed', answer: '', tag: newest, digest: null, etag },
    change: { tag: newest, reason: `watch: ${key} has tag ${newest} (was ${current ?? 'none'})` },
  }
}

function bySameTag(
  w: WatchedService,
  key: string,
  tag: string,
  answer: Awaited<ReturnType<WatchRegistry['manifestIfChanged']>>,
): ServiceVerdict {
  const seen = w.previous?.tag === tag ? w.previous.digest : null
  const digest = answer.notModified ? seen : answer.digest
  const etag = answer.notModified ? (w.previous?.etag ?? null) : answer.etag
  const baseline = seen ?? w.runningDigest
  if (digest === null || baseline === null || digest === baseline) {
    const first = baseline === null ? ' (first check: kept as what runs)' : ''
    return {
      found: {
        outcome: 'unchanged',
        answer: `${key}:${tag} is ${short(digest)}${answer.notModified ? ' (not modified)' : ''}${first}`,
        tag,
        digest,
        etag,
      },
    }
  }
  return {
    found: { outcome: 'changed', answer: '', tag, digest, etag },
    change: {
      tag,
      reason: `watch: ${key}:${tag} moved from ${short(baseline)} to ${short(digest)}`,
    },
  }
}
