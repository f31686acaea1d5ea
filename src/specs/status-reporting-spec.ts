/**
 * A service's `gitlab`, `gitea` and `bitbucket` blocks: where its deployments are reported as
 * commit statuses. Their schema and their parse, with every problem named by field.
 */
import type { StatusHost, StatusReporting } from '../model/index.ts'
import { defaultTokenEnv, isTokenEnvOf, tokenEnvRule } from '../model/status-token.ts'
import { isRecord, type ProblemList } from './problems.ts'

const MAX_URL_CHARS = 2048
const MAX_USERNAME_CHARS = 200

/** The API root people write when the host has no default or runs on their own machine. */
const API_URL_EXAMPLES: Record<StatusHost, string> = {
  gitlab: 'https://gitlab.example.com/api/v4',
  gitea: 'https://gitea.example.com/api/v1',
  bitbucket: 'https://api.bitbucket.org/2.0',
}

/** Gitea and Forgejo have no public instance to default to. */
const REQUIRED_ROOT: Record<StatusHost, string> = {
  gitlab: '',
  gitea: ' (required)',
  bitbucket: '',
}

function blockSchema(host: StatusHost) {
  return {
    type: ['object', 'null'],
    additionalProperties: false,
    properties: {
      apiUrl: {
        type: 'string',
        description: `the API root, e.g. ${API_URL_EXAMPLES[host]}${REQUIRED_ROOT[host]}`,
      },
      tokenEnv: {
        type: 'string',
        description: `Deckhand's environment variable with the token: ${defaultTokenEnv(host)}…`,
      },
      ...(host === 'bitbucket'
        ? { username: { type: 'string', description: 'of an app password or API token (Basic)' } }
        : {}),
    },
  } as const
}

export const statusReportingSchemas = {
  gitlab: blockSchema('gitlab'),
  gitea: blockSchema('gitea'),
  bitbucket: blockSchema('bitbucket'),
} as const

/** The block as stored, or undefined when absent or wrong (the problem is added). */
export function parseStatusReporting(
  host: StatusHost,
  value: unknown,
  problems: ProblemList,
): StatusReporting | undefined {
  if (value === undefined || value === null) {
    return undefined
  }
  if (!isRecord(value)) {
    const example = `{"apiUrl": "${API_URL_EXAMPLES[host]}", "tokenEnv": "…"}`
    problems.add([host], `must be an object: ${example}`)
    return undefined
  }
  const tokenEnv = value.tokenEnv ?? defaultTokenEnv(host)
  if (typeof tokenEnv !== 'string' || !isTokenEnvOf(host, tokenEnv)) {
    problems.add([host, 'tokenEnv'], tokenEnvRule(host))
  }
  const apiUrl = value.apiUrl
  if (apiUrl === undefined && host === 'gitea') {
    const example = API_URL_EXAMPLES.gitea
    problems.add([host, 'apiUrl'], `must name your server's API root, e.g. ${example}`)
  }
  const apiUrlProblem = apiUrl === undefined ? undefined : checkApiUrl(apiUrl)
  if (apiUrlProblem) {
    problems.add([host, 'apiUrl'], apiUrlProblem)
  }
  // The schema knows `username` only in the bitbucket block: GitLab and Gitea tokens need no user.
  const username = value.username
  if (username !== undefined && !isUsername(username)) {
    problems.add(
      [host, 'username'],
      `must be the Bitbucket user or e-mail of the app password or API token: ` +
        `1–${MAX_USERNAME_CHARS} characters, no ":"`,
    )
  }
  return {
    ...(typeof apiUrl === 'string' && !apiUrlProblem
      ? { apiUrl: withoutTrailingSlashes(apiUrl) }
      : {}),
    tokenEnv: String(tokenEnv),
    ...(typeof username === 'string' ? { username } : {}),
  }
}

/**
 * An http(s) URL with nothing secret in it: a token belongs in the environment, where views,
 * listings and the database never see it, so userinfo and a query string are refused.
 */
function checkApiUrl(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > MAX_URL_CHARS || !URL.canParse(value)) {
    return `must be an http(s) URL of up to ${MAX_URL_CHARS} characters`
  }
  const url = new URL(value)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `must be an http(s) URL, not ${url.protocol}`
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    return 'must carry no user, password, query or fragment: the token comes from tokenEnv'
  }
  return undefined
}

function isUsername(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_USERNAME_CHARS &&
    !value.includes(':') &&
    // No control characters: the name goes into a header.
    !/[\u0000-\u001f\u007f]/.test(value)
  )
}

/** One pass, not /\/+$/: that pattern backtracks at every slash of a long run. */
function withoutTrailingSlashes(text: string): string {
  let end = text.length
  while (end > 0 && text[end - 1] === '/') {
    end--
  }
  return text.slice(0, end)
}
