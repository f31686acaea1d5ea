/**
 * Every setting `deckhand serve` reads, with its default and meaning: the one list that
 * `deckhand serve --help` prints and that a test holds against settings.ts and the README.
 */

export interface SettingEntry {
  /** The environment variable. */
  name: string
  /** The flag of `deckhand serve` that sets it too, if any. */
  flag?: string
  /** The default, as a person would write it. */
  fallback: string
  /** What it does, in one sentence. */
  meaning: string
}

export const SETTINGS: readonly SettingEntry[] = [
  {
    name: 'DECKHAND_LISTEN',
    flag: '--listen',
    fallback: '127.0.0.1:8080',
    meaning: 'address to serve on (host:port)',
  },
  {
    name: 'DECKHAND_PUBLIC_URL',
    fallback: 'http://<listen>',
    meaning: 'base of the trigger URLs Deckhand shows',
  },
  {
    name: 'DECKHAND_DATA_DIR',
    fallback: './data',
    meaning: "SQLite file, process replicas' pid files and logs",
  },
  {
    name: 'DECKHAND_DATABASE_URL',
    fallback: 'sqlite:<data dir>/deckhand.db',
    meaning: 'or postgres://user:pass@host/db',
  },
  {
    name: 'DECKHAND_ADMIN_TOKEN',
    fallback: 'made and printed at first start',
    meaning: 'an admin token to accept',
  },
  {
    name: 'DECKHAND_TRUSTED_PROXIES',
    fallback: 'none',
    meaning: 'comma list of proxy addresses/CIDRs whose X-Forwarded-For is believed',
  },
  {
    name: 'DECKHAND_MAX_BODY_BYTES',
    fallback: '1048576',
    meaning: 'largest trigger call body (413 past it)',
  },
  {
    name: 'DECKHAND_DRIVERS',
    fallback: 'process,command',
    meaning:
      'drivers to enable (process, command, docker, swarm, kubernetes); docker and swarm join when DOCKER_HOST is set or /var/run/docker.sock exists',
  },
  {
    name: 'DOCKER_HOST',
    fallback: 'unix:///var/run/docker.sock',
    meaning: 'the Docker engine socket of the docker and swarm drivers',
  },
  {
    name: 'DECKHAND_CONFIG',
    flag: '--config',
    fallback: 'none',
    meaning: 'a deckhand.yaml to apply at start',
  },
  {
    name: 'DECKHAND_NOTIFY_URLS',
    fallback: 'none',
    meaning: "comma list of URLs told of every deployment's start and end (signed JSON)",
  },
  {
    name: 'DECKHAND_CALLBACK_HOSTS',
    fallback: 'hub.docker.com,registry.hub.docker.com,*.docker.com',
    meaning:
      'comma list of hosts (host, host:port, *.domain) a Docker Hub callback_url may name; names must resolve to public addresses, a listed IP address is reached even when private',
  },
  {
    name: 'DECKHAND_GITLAB_TOKEN',
    fallback: 'none',
    meaning:
      "GitLab token of the commit statuses of services with a gitlab block (a block's tokenEnv may name DECKHAND_GITLAB_TOKEN_<SUFFIX> instead)",
  },
  {
    name: 'DECKHAND_GITEA_TOKEN',
    fallback: 'none',
    meaning:
      'Gitea or Forgejo token of the commit statuses of services with a gitea block (or DECKHAND_GITEA_TOKEN_<SUFFIX>)',
  },
  {
    name: 'DECKHAND_BITBUCKET_TOKEN',
    fallback: 'none',
    meaning:
      "Bitbucket Cloud access token, or app password with the block's username, of build statuses (or DECKHAND_BITBUCKET_TOKEN_<SUFFIX>)",
  },
  {
    name: 'DECKHAND_REGISTRY_AUTH',
    fallback: '$DOCKER_CONFIG/config.json, else ~/.docker/config.json',
    meaning:
      'a Docker config.json whose auths, credHelpers and credsStore give the credentials sent to private registries on pulls and Swarm updates',
  },
  {
    name: 'DECKHAND_REGISTRY_CA',
    fallback: 'none',
    meaning:
      "comma list of PEM files of CAs trusted, besides the system's, when Deckhand asks a registry for a tag's digest",
  },
  {
    name: 'DECKHAND_REGISTRY_CERTS_D',
    fallback: '/etc/docker/certs.d',
    meaning:
      "Docker's certs.d directory: the `<host:port>/*.crt` files in it are trusted for that registry, and a `*.cert` with its `*.key` is the client certificate shown to it, as the Docker daemon does",
  },
  {
    name: 'DECKHAND_CONCURRENCY',
    fallback: '4',
    meaning: 'deployments of different services that run at once',
  },
  {
    name: 'DECKHAND_LEASE_MS',
    fallback: '30000',
    meaning:
      "how long a running deployment's claim lasts unrenewed before another instance takes it over",
  },
  {
    name: 'DECKHAND_SHUTDOWN_GRACE_MS',
    fallback: '20000',
    meaning:
      'on SIGTERM, how long running deployments may finish before they are marked interrupted',
  },
  {
    name: 'DECKHAND_RETAIN',
    fallback: '30d',
    meaning:
      'calls, and the logs of deployments that ended, older than this are pruned (deployments themselves stay)',
  },
  {
    name: 'DECKHAND_RETAIN_CALLS',
    fallback: '100000',
    meaning: 'at most this many calls are kept, the newest',
  },
  {
    name: 'DECKHAND_PASS_ENV',
    fallback: '(none)',
    meaning: 'comma list of variables passed on to child processes besides PATH, HOME, LANG, TZ',
  },
  {
    name: 'DECKHAND_LOG_LEVEL',
    fallback: 'info',
    meaning: 'pino level: trace, debug, info, warn, error',
  },
  {
    name: 'DECKHAND_LOG_FORMAT',
    fallback: 'pretty on a terminal, else json',
    meaning: 'pretty (or text): one readable line per event; json: JSON Lines for log collectors',
  },
]

/** The text of `deckhand serve --help`: usage, then one block per setting. */
export function serveHelp(): string {
  const width = Math.max(...SETTINGS.map((s) => s.name.length))
  const lines = SETTINGS.map(
    (s) =>
      `  ${s.name.padEnd(width)}  ${s.meaning}\n  ${''.padEnd(width)}  default: ${s.fallback}${s.flag ? `; flag ${s.flag}` : ''}\n`,
  )
  return (
    'Usage: deckhand serve [--listen host:port] [--config deckhand.yaml]\n\n' +
    'Runs the Deckhand server. Settings come from the environment (flags win):\n\n' +
    lines.join('') +
    '\nThe README lists the same settings; docs/config.md describes deckhand.yaml.\n'
  )
}
