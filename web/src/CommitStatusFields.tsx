// A service's commit statuses on GitHub, GitLab, Gitea/Forgejo and Bitbucket, as merge-patch
// blocks: `github` carries its token, the others name the variable of Deckhand's that holds it.
import { STATUS_HOSTS, type StatusHost } from '../../src/model/index.ts'
import { Field } from './Field.tsx'
import { patchText } from './merge-patch.ts'
import type { Service } from './types.ts'

export interface StatusDraft {
  on: boolean
  apiUrl: string
  tokenEnv: string
  username: string
}

export interface GitHubDraft {
  on: boolean
  apiUrl: string
  /** Typed anew: views never show it (hasToken). */
  token: string
}

export interface CommitStatusDraft {
  github: GitHubDraft
  hosts: Record<StatusHost, StatusDraft>
}

const HOST_LABELS: Record<StatusHost, string> = {
  gitlab: 'GitLab commit statuses',
  gitea: 'Gitea / Forgejo commit statuses',
  bitbucket: 'Bitbucket Cloud build statuses',
}

/** The API root a host reads when the block names none; Gitea has none. */
const API_URL_HINTS: Record<StatusHost, string> = {
  gitlab: 'optional; default https://gitlab.com/api/v4',
  gitea: 'required, e.g. https://code.example.com/api/v1',
  bitbucket: 'optional; default https://api.bitbucket.org/2.0',
}

/** The variable family the API allows (src/model/status-token.ts runs on the server only). */
function tokenEnvHint(host: StatusHost): string {
  const base = `DECKHAND_${host.toUpperCase()}_TOKEN`
  return `default ${base}, or ${base}_<SUFFIX>`
}

export function statusDraftOf(service: Service): CommitStatusDraft {
  const hosts = Object.fromEntries(
    STATUS_HOSTS.map((host) => {
      const block = service[host]
      const draft = {
        on: Boolean(block),
        apiUrl: block?.apiUrl ?? '',
        tokenEnv: block?.tokenEnv ?? '',
        username: block?.username ?? '',
      }
      return [host, draft]
    }),
  ) as Record<StatusHost, StatusDraft>
  const github = { on: Boolean(service.github), apiUrl: service.github?.apiUrl ?? '', token: '' }
  return { github, hosts }
}

/** The fields problems come under, as the API names them. */
export const STATUS_FIELDS = [
  'github',
  'github.token',
  'github.apiUrl',
  ...STATUS_HOSTS.flatMap((host) => [
    host,
    `${host}.apiUrl`,
    `${host}.tokenEnv`,
    `${host}.username`,
  ]),
]

/**
 * The blocks' merge patch. An untouched `github` block is left out: the view hides its token,
 * so sending the block back without one would be refused.
 */
export function statusPatch(service: Service, draft: CommitStatusDraft): Record<string, unknown> {
  const patch: Record<string, unknown> = {}
  for (const host of STATUS_HOSTS) {
    const block = draft.hosts[host]
    const stored = service[host] ?? undefined
    patch[host] = !block.on
      ? stored
        ? null
        : undefined
      : {
          apiUrl: patchText(block.apiUrl, stored?.apiUrl),
          tokenEnv: patchText(block.tokenEnv, stored?.tokenEnv),
          ...(host === 'bitbucket'
            ? { username: patchText(block.username, stored?.username) }
            : {}),
        }
  }
  const { github } = draft
  const stored = service.github ?? undefined
  const unchanged = stored && github.token === '' && github.apiUrl.trim() === (stored.apiUrl ?? '')
  if (!github.on) {
    patch.github = stored ? null : undefined
  } else if (!unchanged) {
    patch.github = {
      ...(github.token !== '' ? { token: github.token } : {}),
      apiUrl: patchText(github.apiUrl, stored?.apiUrl),
    }
  }
  return patch
}

export function CommitStatusFields({
  service,
  draft,
  errors,
  onChange,
}: {
  service: Service
  draft: CommitStatusDraft
  errors: Record<string, string | undefined>
  onChange: (draft: CommitStatusDraft) => void
}) {
  const setHost = (host: StatusHost, change: Partial<StatusDraft>) =>
    onChange({ ...draft, hosts: { ...draft.hosts, [host]: { ...draft.hosts[host], ...change } } })
  const setGitHub = (change: Partial<GitHubDraft>) =>
    onChange({ ...draft, github: { ...draft.github, ...change } })
  return (
    <fieldset>
      <legend>Statuses on the git host</legend>
      <p className="hint">
        Each deployment of a call's commit is reported on that commit: pending, running, then its
        outcome, with a link to the deployment here.
      </p>
      <label className="check">
        <input
          type="checkbox"
          checked={draft.github.on}
          onChange={(e) => setGitHub({ on: e.target.checked })}
        />
        GitHub deployments and statuses
      </label>
      {errors.github && <p className="field-error">{errors.github}</p>}
      {draft.github.on && (
        <div className="row">
          <Field
            id="github-token"
            label="GitHub token"
            hint={service.github?.hasToken ? 'set; type a new one to replace it' : 'required'}
            error={errors['github.token']}
          >
            <input
              id="github-token"
              type="password"
              autoComplete="new-password"
              value={draft.github.token}
              onChange={(e) => setGitHub({ token: e.target.value })}
            />
          </Field>
          <Field
            id="github-api"
            label="GitHub API URL"
            hint="optional; GitHub Enterprise, e.g. https://github.example.com/api/v3"
            error={errors['github.apiUrl']}
          >
            <input
              id="github-api"
              className="mono"
              spellCheck={false}
              value={draft.github.apiUrl}
              onChange={(e) => setGitHub({ apiUrl: e.target.value })}
            />
          </Field>
        </div>
      )}
      {STATUS_HOSTS.map((host) => {
        const block = draft.hosts[host]
        return (
          <div key={host}>
            <label className="check">
              <input
                type="checkbox"
                checked={block.on}
                onChange={(e) => setHost(host, { on: e.target.checked })}
              />
              {HOST_LABELS[host]}
            </label>
            {errors[host] && <p className="field-error">{errors[host]}</p>}
            {block.on && (
              <div className="row">
                <Field
                  id={`${host}-api`}
                  label="API URL"
                  hint={API_URL_HINTS[host]}
                  error={errors[`${host}.apiUrl`]}
                >
                  <input
                    id={`${host}-api`}
                    className="mono"
                    spellCheck={false}
                    value={block.apiUrl}
                    onChange={(e) => setHost(host, { apiUrl: e.target.value })}
                  />
                </Field>
                <Field
                  id={`${host}-token-env`}
                  label="Token variable"
                  hint={`Deckhand's environment variable; ${tokenEnvHint(host)}`}
                  error={errors[`${host}.tokenEnv`]}
                >
                  <input
                    id={`${host}-token-env`}
                    className="mono"
                    spellCheck={false}
                    value={block.tokenEnv}
                    onChange={(e) => setHost(host, { tokenEnv: e.target.value })}
                  />
                </Field>
                {host === 'bitbucket' && (
                  <Field
                    id="bitbucket-username"
                    label="Username"
                    hint="optional; with an app password or API token"
                    error={errors['bitbucket.username']}
                  >
                    <input
                      id="bitbucket-username"
                      spellCheck={false}
                      value={block.username}
                      onChange={(e) => setHost(host, { username: e.target.value })}
                    />
                  </Field>
                )}
              </div>
            )}
          </div>
        )
      })}
    </fieldset>
  )
}
