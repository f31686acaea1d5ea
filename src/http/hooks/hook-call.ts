/**
 * A trigger call from its parsed request to its answer: shed it when the intake is at its
 * bound, else accept it, and with `?wait=` hold the answer until its deployments end. Shared by
 * the Fastify route and the fast path, so both answer alike.
 */
import type { Socket } from 'node:net'

import type { CallAcceptor, CallAnswer, CallRequest } from '../../calls/accept-call.ts'
import { waitOf } from '../../calls/call-parameters.ts'
import type { EventBus } from '../../events.ts'
import { awaitDeployments } from '../../queue/await-deployments.ts'
import type { QueueStore } from '../../store/store.ts'
import { type IntakeLimit, RETRY_AFTER_SECONDS } from './intake-limit.ts'

export interface HookCallDeps {
  store: Pick<QueueStore, 'getDeployment'>
  events: EventBus
  acceptor: CallAcceptor
  intake: IntakeLimit
}

/** The answer to a call over the intake's bound: nothing of it was recorded or queued. */
export function shed(limit: number): CallAnswer {
  return {
    status: 503,
    headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
    body: {
      error:
        `Deckhand is at its bound of ${limit} calls in flight; this call was not recorded and` +
        ` queued nothing. Retry after ${RETRY_AFTER_SECONDS} s`,
      code: 'DH_ERR_HOOK_OVERLOADED',
    },
  }
}

export async function answerHookCall(
  request: CallRequest,
  socket: Socket,
  deps: HookCallDeps,
): Promise<CallAnswer> {
  if (!deps.intake.tryEnter()) {
    deps.events.emit('call:shed', {})
    return shed(deps.intake.limit)
  }
  // Only accepting counts against the bound: a ?wait= below holds no commit up.
  let answer: CallAnswer
  try {
    answer = await deps.acceptor.accept(request)
  } finally {
    deps.intake.leave()
  }
  // The acceptor refused a wait that does not parse; what reaches here is bounded.
  const waitMs = waitOf(request.query)
  if (answer.status !== 202 || !answer.deploymentIds || waitMs === undefined) {
    return answer
  }
  // Nothing flows while the deployment runs: without this the socket's idle timeout
  // (connectionTimeout) cut every wait longer than it, and CI saw a reset, not the outcome.
  if (socket.timeout) {
    socket.setTimeout(socket.timeout + waitMs)
  }
  const ended = await awaitDeployments(deps.store, deps.events, answer.deploymentIds, waitMs)
  if (!ended) {
    return answer
  }
  const failed = ended.some((d) => d.state !== 'succeeded')
  return {
    status: failed ? 500 : 200,
    body: {
      status: failed ? 'failed' : 'succeeded',
      deployments: ended.map((d) => ({
        id: d.id,
        service: d.service,
        action: d.action,
        state: d.state,
        error: d.error,
      })),
    },
  }
}
