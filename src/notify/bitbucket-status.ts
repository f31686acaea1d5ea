// Bitbucket Cloud build statuses: how one deployment phase is posted to a repository's commit.
import type { StatusApi } from './commit-statuses.ts'

/**
 * `POST /repositories/{workspace}/{repo_slug}/commit/{commit}/statuses/build` (Bitbucket Cloud
 * REST, "Commit statuses", developer.atlassian.com/cloud/bitbucket/rest/api-group-commit-statuses):
 * `key` (a status with the same key is overwritten, so each phase replaces the last), `state`
 * INPROGRESS | SUCCESSFUL | FAILED | STOPPED, `url`, `name`, `description`, and `refname` to
 * show on the branch's pull requests. Repository, project and workspace access tokens are sent
 * as `Authorization: Bearer`; an app password or API token as Basic auth with its user.
 */
export const bitbucketStatus: StatusApi = {
  host: 'bitbucket',
  defaultApiUrl: 'https://api.bitbucket.org/2.0',
  maxRepositoryParts: 2,
  states: {
    pending: 'INPROGRESS',
    running: 'INPROGRESS',
    succeeded: 'SUCCESSFUL',
    failed: 'FAILED',
    canceled: 'STOPPED',
  },
  request({ apiUrl, repository, commit, token, username, status }) {
    const [workspace = '', slug = ''] = repository
    const authorization = username
      ? `Basic ${Buffer.from(`${username}:${token}`).toString('base64')}`
      : `Bearer ${token}`
    return {
      url:
        `${apiUrl}/repositories/${encodeURIComponent(workspace)}/${encodeURIComponent(slug)}` +
        `/commit/${commit}/statuses/build`,
      headers: { authorization },
      body: {
        key: `deckhand-${status.service}`,
        state: bitbucketStatus.states[status.phase],
        name: `deckhand/${status.service}`,
        url: status.link,
        description: status.description,
        ...(status.branch ? { refname: status.branch } : {}),
      },
    }
  },
}
