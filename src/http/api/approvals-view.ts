/** The `approvals` block of a deployment's view: the service's rule and the votes so far. */
import type { Deployment, Service } from '../../model/index.ts'
import { approvalDeadline } from '../../release/approvals.ts'
import type { Store } from '../../store/store.ts'

/** The `approvals` block of a deployment's view, as OpenAPI describes it. */
export const approvalsSchema = {
  $id: 'ApprovalsView',
  description:
    "the service's deploy.approvals and the votes cast; absent when the service asks for none " +
    'and nobody voted',
  type: 'object',
  required: ['required', 'deadline', 'votes'],
  properties: {
    required: { type: ['integer', 'null'], description: 'approvals that queue the deployment' },
    deadline: {
      type: ['string', 'null'],
      description: 'when an awaiting deployment is canceled (ISO time)',
    },
    votes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['by', 'vote', 'note', 'at'],
        properties: {
          by: { type: 'string', description: "the admin token's name" },
          vote: { type: 'string', enum: ['approve', 'reject'] },
          note: { type: ['string', 'null'] },
          at: { type: 'string' },
        },
      },
    },
  },
} as const

/** The `approvals` block of a deployment as the API answers it; the web UI reads this type. */
export interface ApprovalsView {
  required: number | null
  deadline: string | null
  votes: { by: string; vote: 'approve' | 'reject'; note: string | null; at: string }[]
}

/** The `approvals` block of a deployment, or undefined when there is nothing to show. */
export async function approvalsView(
  store: Store,
  deployment: Deployment,
  service: Service | undefined,
): Promise<ApprovalsView | undefined> {
  const policy = service?.deploy.approvals
  const votes = await store.listVotes(deployment.id)
  if (!policy && votes.length === 0 && deployment.state !== 'awaiting-approval') {
    return undefined
  }
  return {
    required: policy?.required ?? null,
    deadline: policy ? new Date(approvalDeadline(policy, deployment)).toISOString() : null,
    votes: votes.map((v) => ({ by: v.tokenName, vote: v.vote, note: v.note, at: v.at })),
  }
}
