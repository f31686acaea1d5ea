/**
 * POST /api/v1/deployments/{id}/approve and /reject: an admin's vote on a deployment awaiting
 * approval, recorded under the admin token's name.
 */
import type { FastifyInstance } from 'fastify'

import { conflict } from '../../errors.ts'
import type { Vote } from '../../model/index.ts'
import { castApprovalVote } from '../../release/approval-votes.ts'
import { MAX_NOTE_CHARS } from '../../release/approvals.ts'
import { type ApiOptions, found, idParams } from './api-context.ts'
import { approvalsView } from './approvals-view.ts'
import { deploymentView, votedDeploymentSchema } from './deployments.ts'

const voteBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    note: {
      type: 'string',
      maxLength: MAX_NOTE_CHARS,
      description: `why (at most ${MAX_NOTE_CHARS} characters); shown with the vote`,
    },
  },
} as const

/** What each vote does, for the OpenAPI document. */
const VOTES: Record<Vote, { summary: string; effect: string }> = {
  approve: {
    summary: 'Approve a deployment awaiting approval',
    effect:
      "Once the service's deploy.approvals.required approvals are in, the deployment moves to " +
      'queued, or to held when a change window or a freeze keeps it from starting now.',
  },
  reject: {
    summary: 'Reject a deployment awaiting approval',
    effect: 'One rejection cancels the deployment, with the note in its error.',
  },
}

function voteDescription(vote: Vote): string {
  return [
    `Records a ${vote} vote under the admin token's name, with the time and the optional`,
    `body field \`note\` (at most ${MAX_NOTE_CHARS} characters; the body may be left out).`,
    VOTES[vote].effect,
    '409 when this admin token already voted on the deployment (one vote per token), or when',
    'the deployment is not awaiting approval.',
  ].join(' ')
}

export async function approvalRoutes(
  app: FastifyInstance,
  { store, events }: ApiOptions,
): Promise<void> {
  const routes: [string, Vote][] = [
    ['approve', 'approve'],
    ['reject', 'reject'],
  ]
  for (const [path, vote] of routes) {
    app.post<{ Params: { id: string }; Body: { note?: string } | undefined }>(
      `/deployments/:id/${path}`,
      {
        schema: {
          params: idParams,
          body: voteBody,
          summary: VOTES[vote].summary,
          description: voteDescription(vote),
          answers: {
            200: { description: 'the deployment and its votes', schema: votedDeploymentSchema },
          },
        },
        // A vote without a note may come without a body, as a cancel does.
        preValidation: async (request) => {
          request.body ??= {}
        },
      },
      async (request) => {
        const id = request.params.id
        // The bearer hook of api-routes.ts found this token; without it the route is unreachable.
        const token = request.adminToken!
        const note = request.body?.note?.trim() || null
        const result = await castApprovalVote({ store, events }, id, token, vote, note)
        if (result.kind === 'duplicate') {
          const previous = result.previous
          throw conflict(
            `token ${previous.tokenName} already voted (${previous.vote}) on deployment ${id} ` +
              `at ${previous.at}; one vote per admin token`,
          )
        }
        if (result.kind === 'not-awaiting') {
          const deployment = found(result.deployment, `deployment ${id}`)
          throw conflict(
            `deployment ${id} is ${deployment.state}, not awaiting approval; only a deployment ` +
              'awaiting approval takes votes',
          )
        }
        const service = await store.getService(result.deployment.service)
        return {
          ...deploymentView(result.deployment),
          approvals: await approvalsView(store, result.deployment, service),
        }
      },
    )
  }
}
