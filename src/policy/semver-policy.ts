// The semver-major, semver-minor and semver-patch tag policies, with a small semver parser.
import type { TagDecision, TagPolicy } from './tag-policy.ts'

/** A parsed semantic version; `v1.2.3-rc.1+build.5` keeps its text for reasons. */
export interface Semver {
  major: number
  minor: number
  patch: number
  /** Dot-separated pre-release identifiers, empty for a release. */
  prerelease: readonly string[]
  build: readonly string[]
}

export type SemverScope = 'semver-major' | 'semver-minor' | 'semver-patch'

// semver.org's grammar with an optional leading `v`, the way image and git tags are written.
const SEMVER =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/

/** The version `text` names, or undefined when it is not major.minor.patch semver. */
export function parseSemver(text: string): Semver | undefined {
  if (typeof text !== 'string' || text.length > 256) {
    return undefined
  }
  const match = SEMVER.exec(text)
  if (match === null) {
    return undefined
  }
  const [major, minor, patch] = [match[1], match[2], match[3]].map(Number)
  if (![major, minor, patch].every((n) => n !== undefined && Number.isSafeInteger(n))) {
    return undefined
  }
  return {
    major: major ?? 0,
    minor: minor ?? 0,
    patch: patch ?? 0,
    prerelease: match[4] === undefined ? [] : match[4].split('.'),
    build: match[5] === undefined ? [] : match[5].split('.'),
  }
}

function compareIdentifiers(a: string, b: string): number {
  const aNumeric = /^\d+$/.test(a)
  const bNumeric = /^\d+$/.test(b)
  if (aNumeric && bNumeric) {
    return Math.sign(Number(a) - Number(b))
  }
  if (aNumeric !== bNumeric) {
    return aNumeric ? -1 : 1
  }
  return a < b ? -1 : a > b ? 1 : 0
}

/** semver.org precedence: negative when `a` is lower, 0 when equal (build is ignored). */
export function compareSemver(a: Semver, b: Semver): number {
  const core =
    Math.sign(a.major - b.major) || Math.sign(a.minor - b.minor) || Math.sign(a.patch - b.patch)
  if (core !== 0) {
    return core
  }
  if (a.prerelease.length === 0 || b.prerelease.length === 0) {
    return b.prerelease.length - a.prerelease.length === 0 ? 0 : a.prerelease.length === 0 ? 1 : -1
  }
  for (let i = 0; i < Math.min(a.prerelease.length, b.prerelease.length); i++) {
    const order = compareIdentifiers(a.prerelease[i] ?? '', b.prerelease[i] ?? '')
    if (order !== 0) {
      return order
    }
  }
  return Math.sign(a.prerelease.length - b.prerelease.length)
}

function bumpOf(from: Semver, to: Semver): 'major' | 'minor' | 'patch' | 'pre-release' {
  if (to.major !== from.major) {
    return 'major'
  }
  if (to.minor !== from.minor) {
    return 'minor'
  }
  return to.patch !== from.patch ? 'patch' : 'pre-release'
}

/**
 * Only a higher version, and only within the scope: semver-major takes any higher version,
 * semver-minor one with the same major, semver-patch one with the same major.minor.
 *
 * Pre-releases follow Keel's `matchPreRelease` (on by default there): a candidate must carry
 * the same pre-release as the running tag, so releases follow releases and tags written as
 * pre-releases that are really variants (`1.25.3-alpine` → `1.25.4-alpine`) keep their
 * variant. One addition to Keel: within the same major.minor.patch a pre-release moves on to
 * a later one or to the release (`2.0.0-rc.1` → `2.0.0-rc.2` → `2.0.0`), which Keel refuses
 * and operators trying a release candidate expect. With no running tag known, or one that is
 * not semver, any valid semver is taken: there is nothing to compare against.
 */
export class SemverPolicy implements TagPolicy {
  readonly text: SemverScope

  constructor(scope: SemverScope) {
    this.text = scope
  }

  allows(current: string | null, candidate: string): TagDecision {
    const refuse = (why: string): TagDecision => ({
      ok: false,
      reason: `${why}; policy ${this.text}`,
    })
    const next = parseSemver(candidate)
    if (next === undefined) {
      return refuse(
        `tag ${candidate} is not a semantic version (major.minor.patch with an optional v, pre-release and build)`,
      )
    }
    const now = current === null ? undefined : parseSemver(current)
    if (now === undefined) {
      return { ok: true }
    }
    const order = compareSemver(next, now)
    if (order === 0) {
      return refuse(`tag ${candidate} is the same version as ${current}`)
    }
    if (order < 0) {
      return refuse(`tag ${candidate} is lower than ${current}`)
    }
    const bump = bumpOf(now, next)
    const nextPre = next.prerelease.join('.')
    const nowPre = now.prerelease.join('.')
    if (bump !== 'pre-release' && nextPre !== nowPre) {
      if (nowPre === '') {
        return refuse(`tag ${candidate} is a pre-release and ${current} is not`)
      }
      if (nextPre === '') {
        return refuse(
          `tag ${candidate} is a release and ${current} is a pre-release (${nowPre}) of another version`,
        )
      }
      return refuse(
        `tag ${candidate} is pre-release ${nextPre} and ${current} is pre-release ${nowPre}`,
      )
    }
    if (bump === 'major' && this.text !== 'semver-major') {
      return refuse(`tag ${candidate} is a major bump from ${current}`)
    }
    if (bump === 'minor' && this.text === 'semver-patch') {
      return refuse(`tag ${candidate} is a minor bump from ${current}`)
    }
    return { ok: true }
  }
}
