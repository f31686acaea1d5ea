// GitLab commit statuses: how one deployment phase is posted to a project's commit.
import type { StatusApi } from './commit-statuses.ts'

/**
 * `POST /projects/:id/statuses/:sha` of the Commits API (docs.gitlab.com/api/commits, "Set the
 * pipeline status of a commit"): `state` pending | running | success | failed | canceled, `ref`,
 * `name` (alias `context`), `target_url`, `description`; `:id` is the project's URL-encoded path
 * (`acme%2Fweb`); a personal, project or group access token goes in `PRIVATE-TOKEN`.
 */
export const gitlabStatus: StatusApi = {
  host: 'gitlab',
  defaultApiUrl: 'https://gitlab.com/api/v4',
  // GitLab nests groups: `group/subgroup/project`, any depth.
  maxRepositoryParts: Number.POSITIVE_INFINITY,
  states: {
    pending: 'pending',
    running: 'running',
    succeeded: 'success',
    failed: 'failed',
    canceled: 'canceled',
  },
  request({ apiUrl, repository, commit, token, status }) {
    return {
      url: `${apiUrl}/projects/${encodeURIComponent(repository.join('/'))}/statuses/${commit}`,
      headers: { 'private-token': token },
      body: {
        state: gitlabStatus.states[status.phase],
        name: `deckhand/${status.service}`,
        target_url: status.link,
        description: status.description,
        ...(status.branch ? { ref: status.branch } : {}),
      },
    }
  },
}
