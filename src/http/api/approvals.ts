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
import { deploymentView } from './deployments.ts'

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
        schema: { params: idParams, body: voteBody },
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
