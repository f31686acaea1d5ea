// Gitea and Forgejo commit statuses: how one deployment phase is posted to a repository's commit.
import type { StatusApi } from './commit-statuses.ts'

/**
 * `POST /repos/{owner}/{repo}/statuses/{sha}` with a CreateStatusOption (the swagger of Gitea
 * and Forgejo, docs.gitea.com/api): `state` pending | success | error | failure | warning,
 * `target_url`, `description`, `context`; the token goes in `Authorization: token …`
 * (docs.gitea.com/development/api-usage). Gitea has no running or canceled state: a running
 * deployment stays pending (its description says started), and a canceled one is an `error`
 * as in the GitHub statuses, so a required check never reads a canceled deployment as passed.
 */
export const giteaStatus: StatusApi = {
  host: 'gitea',
  defaultApiUrl: undefined,
  maxRepositoryParts: 2,
  states: {
    pending: 'pending',
    running: 'pending',
    succeeded: 'success',
    failed: 'failure',
    canceled: 'error',
  },
  request({ apiUrl, repository, commit, token, status }) {
    const [owner = '', name = ''] = repository
    const path = `${encodeURIComponent(owner)}/${encodeURIComponent(name)}`
    return {
      url: `${apiUrl}/repos/${path}/statuses/${commit}`,
      headers: { authorization: `token ${token}` },
      body: {
        state: giteaStatus.states[status.phase],
        target_url: status.link,
        description: status.description,
        context: `deckhand/${status.service}`,
      },
    }
  },
}
