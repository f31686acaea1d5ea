/**
 * A trigger call from its parsed request to its answer: accept it, and with `?wait=` hold the
 * answer until its deployments end. Shared by the Fastify route and the fast path, so both
 * answer alike.
 */
import type { Socket } from 'node:net'
import type { EventBus } from '../../events.ts'
import { parseDuration } from '../../model/duration.ts'
import { awaitDeployments } from '../../queue/await-deployments.ts'
import type { Store } from '../../store/store.ts'
import type { CallAcceptor, CallAnswer, CallRequest } from '../../triggers/accept-call.ts'

const MAX_WAIT_MS = 30 * 60_000

export interface HookCallDeps {
  store: Store
  events: EventBus
  acceptor: CallAcceptor
}

export async function answerHookCall(request: CallRequest, socket: Socket, deps: HookCallDeps): Promise<CallAnswer> {
  const answer = await deps.acceptor.accept(request)
  const wait = request.query.wait
  const waitMs = wait === undefined ? undefined : parseDuration(wait)
  if (answer.status !== 202 || !answer.deploymentIds || waitMs === undefined || waitMs <= 0) {
    return answer
  }
  // Nothing flows while the deployment runs: without this the socket's idle timeout
  // (connectionTimeout) cut every wait longer than it, and CI saw a reset, not the outcome.
  if (socket.timeout) {
    socket.setTimeout(socket.timeout + Math.min(waitMs, MAX_WAIT_MS))
  }
  const ended = await awaitDeployments(deps.store, deps.events, answer.deploymentIds, Math.min(waitMs, MAX_WAIT_MS))
  if (!ended) {
    return answer
  }
  const failed = ended.some((d) => d.state !== 'succeeded')
  return {
    status: failed ? 500 : 200,
    body: {
      status: failed ? 'failed' : 'succeeded',
      deployments: ended.map((d) => ({ id: d.id, service: d.service, action: d.action, state: d.state, error: d.error })),
    },
  }
}
