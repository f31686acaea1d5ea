/**
 * Which environment variables hold the tokens of git-host commit statuses, and reading them.
 *
 * A service names its token's variable (`gitlab.tokenEnv`), but only a name of that host's own
 * family: `DECKHAND_GITLAB_TOKEN` or `DECKHAND_GITLAB_TOKEN_<SUFFIX>`. The operator chose to put
 * those in Deckhand's environment for this purpose; any other name would let whoever can write a
 * service send DECKHAND_ADMIN_TOKEN, a database URL or a cloud key to the `apiUrl` they write.
 */
import type { StatusHost } from './index.ts'

const MAX_NAME_CHARS = 100

/** `DECKHAND_GITLAB_TOKEN`: the variable a `gitlab` block reads when it names none. */
export function defaultTokenEnv(host: StatusHost): string {
  return `DECKHAND_${host.toUpperCase()}_TOKEN`
}

/** True for `DECKHAND_GITLAB_TOKEN` and `DECKHAND_GITLAB_TOKEN_WEB`, false for any other name. */
export function isTokenEnvOf(host: StatusHost, name: string): boolean {
  const base = defaultTokenEnv(host)
  return (
    name.length <= MAX_NAME_CHARS &&
    (name === base ||
      (name.startsWith(base) && /^_[A-Z0-9][A-Z0-9_]*$/.test(name.slice(base.length))))
  )
}

/** What the rule says, for the problem a refused name gets. */
export function tokenEnvRule(host: StatusHost): string {
  const base = defaultTokenEnv(host)
  const rule = `capitals, digits and _, up to ${MAX_NAME_CHARS} characters`
  return `must be ${base} or start with ${base}_ (${rule})`
}

/** Every variable of `env` that some status host may read: the only ones kept from it. */
export function readStatusTokens(
  env: NodeJS.ProcessEnv,
  hosts: readonly StatusHost[],
): ReadonlyMap<string, string> {
  const tokens = new Map<string, string>()
  for (const [name, value] of Object.entries(env)) {
    // A line of an env file may end in a space or CR; no token has one, and a header cannot.
    const token = value?.trim()
    if (token && hosts.some((host) => isTokenEnvOf(host, name))) {
      tokens.set(name, token)
    }
  }
  return tokens
}
