/**
 * Cancels deployments whose approval deadline passed, on a timer (never on a call). Each move
 * is conditional on the deployment still awaiting approval, so instances sweeping one
 * PostgreSQL store at once, or a vote landing meanwhile, cannot both move it: one wins, the
 * others find it moved and leave it.
 */
import type { Logger } from 'pino'

import type { EventBus } from '../events.ts'
import type { Deployment } from '../model/index.ts'
import type { Store } from '../store/store.ts'
import { announceMove, approvalMove } from './approval-votes.ts'

export interface ApprovalSweeperOptions {
  store: Store
  events: EventBus
  logger: Logger
  intervalMs: number
  /** The clock deadlines are read on (ms since the epoch); tests move it. */
  now?: () => number
}

export interface ApprovalSweeper {
  /** Sweeps once now; resolves with the deployments this sweep moved. */
  sweep(): Promise<Deployment[]>
  /** Stops the timer and waits for a sweep under way. */
  stop(): Promise<void>
}

/** Awaiting deployments read per page: a sweep walks them all. */
const PAGE = 200

export function startApprovalSweeper(options: ApprovalSweeperOptions): ApprovalSweeper {
  const { store, events, logger } = options
  const now = options.now ?? Date.now
  let running: Promise<Deployment[]> | undefined
  const sweepOnce = async (): Promise<Deployment[]> => {
    const moved: Deployment[] = []
    let cursor: string | undefined
    do {
      const page = await store.listDeployments(
        { state: 'awaiting-approval' },
        { limit: PAGE, ...(cursor ? { cursor } : {}) },
      )
      for (const deployment of page.items) {
        const service = await store.getService(deployment.service)
        const votes = await store.listVotes(deployment.id)
        const move = approvalMove(service, deployment, votes, now())
        if (!move) {
          continue
        }
        const after = await store.moveDeployment(
          deployment.id,
          ['awaiting-approval'],
          move.to,
          move.error,
        )
        if (after) {
          moved.push(after)
          logger.info(
            { deployment: after.id, service: after.service, state: after.state },
            `deployment ${after.id} ${after.state === 'canceled' ? after.error : `is ${after.state}`}`,
          )
          announceMove(events, after, service)
        }
      }
      cursor = page.next ?? undefined
    } while (cursor)
    return moved
  }
  const sweep = (): Promise<Deployment[]> => {
    // A sweep slower than the interval is not started twice.
    running ??= sweepOnce().finally(() => {
      running = undefined
    })
    return running
  }
  const timer = setInterval(() => {
    sweep().catch((error: unknown) =>
      logger.error(
        { err: error, code: 'DH_ERR_STORE_UNAVAILABLE' },
        'the approval deadline sweep failed; it runs again at the next interval',
      ),
    )
  }, options.intervalMs)
  return {
    sweep,
    stop: async () => {
      clearInterval(timer)
      await running?.catch(() => undefined)
    },
  }
}
