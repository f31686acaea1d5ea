// Tag policies: which image tag a service may move to, parsed from the service's `tagPolicy`.
import { AllPolicy } from './all-policy.ts'
import { ForcePolicy } from './force-policy.ts'
import { GlobPolicy } from './glob-policy.ts'
import { RegexpPolicy } from './regexp-policy.ts'
import { SemverPolicy } from './semver-policy.ts'

/** Whether a candidate tag is taken, and if not, why (the `ignored` reason a caller sees). */
export type TagDecision = { ok: true } | { ok: false; reason: string }

export interface TagPolicy {
  /** The policy as written in a service, e.g. `semver-minor` or `glob:release-*`. */
  readonly text: string
  /**
   * Whether the service may move from `current` (null when Deckhand does not know the
   * running tag) to `candidate`.
   */
  allows(current: string | null, candidate: string): TagDecision
}

export type TagPolicyParse = { ok: true; policy: TagPolicy } | { ok: false; error: string }

// Docker's reference grammar for a tag: what a registry accepts, and what a driver can pull.
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/

/** Whether `tag` is a tag an image reference can carry. */
export function isImageTag(tag: string): boolean {
  return IMAGE_TAG.test(tag)
}

/** Every policy refuses what could never be pulled, before its own rule is asked. */
class ImageTagGuard implements TagPolicy {
  readonly text: string
  readonly #inner: TagPolicy

  constructor(inner: TagPolicy) {
    this.#inner = inner
    this.text = inner.text
  }

  allows(current: string | null, candidate: string): TagDecision {
    if (typeof candidate !== 'string' || !isImageTag(candidate)) {
      const shown = typeof candidate === 'string' ? JSON.stringify(candidate.slice(0, 60)) : 'none'
      return {
        ok: false,
        reason: `tag ${shown} is not a valid image tag (letters, digits, _ . -, at most 128, not starting with . or -); policy ${this.text}`,
      }
    }
    return this.#inner.allows(current, candidate)
  }
}

const unknownPolicy = (text: string): TagPolicyParse => ({
  ok: false,
  error: `unknown tag policy ${JSON.stringify(text)}: expected all, force, semver-major, semver-minor, semver-patch, glob:<pattern> or regexp:<expression>`,
})

/**
 * Parses a service's `tagPolicy`. An unknown policy is an error, never a policy that quietly
 * refuses or allows everything (Keel's NilPolicy fallback is what this avoids).
 */
export function parseTagPolicy(text: string): TagPolicyParse {
  if (typeof text !== 'string') {
    return unknownPolicy(String(text))
  }
  const trimmed = text.trim()
  let policy: TagPolicy | string
  switch (trimmed) {
    case 'all':
      policy = new AllPolicy()
      break
    case 'force':
      policy = new ForcePolicy()
      break
    case 'semver-major':
    case 'semver-minor':
    case 'semver-patch':
      policy = new SemverPolicy(trimmed)
      break
    default:
      if (trimmed.startsWith('glob:')) {
        policy = GlobPolicy.parse(trimmed.slice('glob:'.length))
      } else if (trimmed.startsWith('regexp:')) {
        policy = RegexpPolicy.parse(trimmed.slice('regexp:'.length))
      } else {
        return unknownPolicy(trimmed)
      }
  }
  return typeof policy === 'string'
    ? { ok: false, error: policy }
    : { ok: true, policy: new ImageTagGuard(policy) }
}

// Policies are pure, so one parse serves every call of every service that names the text:
// parsed (and a regexp compiled) once per service change, not on each call. Emptied when full,
// so texts from many changes cannot grow it without bound.
const MAX_REMEMBERED = 1000
const remembered = new Map<string, TagPolicyParse>()

/** parseTagPolicy, remembered by text: what the call path uses. */
export function tagPolicyOf(text: string): TagPolicyParse {
  let parsed = remembered.get(text)
  if (parsed === undefined) {
    if (remembered.size >= MAX_REMEMBERED) {
      remembered.clear()
    }
    parsed = parseTagPolicy(text)
    remembered.set(text, parsed)
  }
  return parsed
}

/**
 * Why a service may not move to `tag` (its policy refuses it, or the policy does not parse),
 * or undefined when it may: the one check of a tag a call or an operator asks for.
 */
export function refuseTag(
  service: { tagPolicy: string; tag: string | null },
  tag: string,
): string | undefined {
  const policy = tagPolicyOf(service.tagPolicy)
  if (!policy.ok) {
    return policy.error
  }
  const verdict = policy.policy.allows(service.tag, tag)
  return verdict.ok ? undefined : verdict.reason
}
