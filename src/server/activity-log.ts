/**
 * One log line per trigger call (accepted or refused, with its service, trigger, sender and
 * outcome) and per deployment start and end (with its duration), written from the events so
 * the hot path pays nothing but the line. Calls shed under overload get one warning for all
 * shed since the last one, at most every SHED_LINE_MS: a line each would add to the overload. Calls not recorded at all (unknown token, rate
 * limited) keep their access line at info instead (build-app.ts, hooks-fast-path.ts).
 */
import type { Logger } from 'pino'

import type { EventBus } from '../events.ts'
import type { Call, Deployment, Trigger } from '../model/index.ts'
import type { CatalogueStore } from '../store/store.ts'

/** Names of recently seen triggers; a call's line needs its trigger's name and owner. */
const TRIGGER_CACHE_SIZE = 1000
/**
 * How long a cached name is believed: a trigger renamed (on this instance or another sharing
 * the database) shows its new name in call lines within this time.
 */
export const TRIGGER_NAME_TTL_MS = 60_000
/** At most one line per this long about calls shed; deckhand_calls_shed_total has every one. */
const SHED_LINE_MS = 10_000

type TriggerName = Pick<Trigger, 'name' | 'service' | 'stack'>

export function logActivity(
  events: EventBus,
  store: Pick<CatalogueStore, 'getTrigger'>,
  logger: Logger,
  now: () => number = Date.now,
): () => void {
  const triggers = new Map<string, TriggerName & { at: number }>()
  const triggerOf = async (id: string): Promise<TriggerName | undefined> => {
    const known = triggers.get(id)
    if (known && now() - known.at < TRIGGER_NAME_TTL_MS) {
      return known
    }
    triggers.delete(id)
    const trigger = await store.getTrigger(id)
    if (trigger) {
      if (triggers.size >= TRIGGER_CACHE_SIZE) {
        triggers.delete(triggers.keys().next().value!)
      }
      triggers.set(id, {
        name: trigger.name,
        service: trigger.service,
        stack: trigger.stack,
        at: now(),
      })
    }
    return trigger
  }

  let shed = 0
  let shedLineAt = -Infinity
  const offs = [
    events.on('call:shed', () => {
      shed += 1
      const now = performance.now()
      if (now - shedLineAt >= SHED_LINE_MS) {
        const since =
          shedLineAt === -Infinity ? '' : ` in the last ${Math.round((now - shedLineAt) / 1000)} s`
        logger.warn(
          { shed, code: 'DH_ERR_HOOK_OVERLOADED' },
          `answered ${shed} trigger calls 503${since}: the calls in flight were at their bound; nothing of them was recorded`,
        )
        shed = 0
        shedLineAt = now
      }
    }),
    events.on('call:recorded', async ({ call }) => {
      if (!logger.isLevelEnabled('info')) {
        return
      }
      const trigger =
        call.triggerId === null ? undefined : await triggerOf(call.triggerId).catch(() => undefined)
      const line = callLine(call, trigger)
      logger[call.status >= 500 ? 'warn' : 'info'](line.fields, line.message)
    }),
    events.on('deployment:started', ({ deployment }) => {
      logger.info(
        deploymentFields(deployment),
        `deployment ${deployment.id} started: ${deployment.action} ${deployment.service}`,
      )
    }),
    events.on('deployment:finished', ({ deployment }) => {
      const ms = durationMs(deployment)
      const took = ms === undefined ? '' : ` in ${formatMs(ms)}`
      const error = deployment.error?.split('\n')[0]
      const message = `deployment ${deployment.id} ${deployment.state}${took}: ${deployment.action} ${deployment.service}${error ? `: ${error}` : ''}`
      logger[deployment.state === 'succeeded' ? 'info' : 'warn'](
        { ...deploymentFields(deployment), state: deployment.state, ms },
        message,
      )
    }),
  ]
  return () => offs.forEach((off) => off())
}

/** The line of one recorded call: what it was sent to, by which sender, and what came of it. */
export function callLine(
  call: Call,
  trigger: TriggerName | undefined,
): { message: string; fields: Record<string, unknown> } {
  const owner = trigger?.service ?? trigger?.stack
  const to =
    call.triggerId === null ? 'API' : `${owner ?? '?'} (trigger ${trigger?.name ?? call.triggerId})`
  const deployments = call.deploymentIds.length ? ` → ${call.deploymentIds.join(', ')}` : ''
  const reason = call.reason ? `: ${call.reason}` : ''
  return {
    message: `call ${call.outcome} ${call.status} to ${to} from ${call.sender ?? 'an unknown sender'}${deployments}${reason}`,
    fields: {
      call: call.id,
      ...(trigger
        ? { trigger: trigger.name, [trigger.service !== null ? 'service' : 'stack']: owner }
        : {}),
      sender: call.sender,
      outcome: call.outcome,
      status: call.status,
      ...(call.remoteAddress ? { address: call.remoteAddress } : {}),
    },
  }
}

function deploymentFields(deployment: Deployment): Record<string, unknown> {
  return {
    deployment: deployment.id,
    service: deployment.service,
    action: deployment.action,
    ...(deployment.input.triggerName ? { trigger: deployment.input.triggerName } : {}),
  }
}

function durationMs(deployment: Deployment): number | undefined {
  if (!deployment.startedAt || !deployment.finishedAt) {
    return undefined
  }
  return Date.parse(deployment.finishedAt) - Date.parse(deployment.startedAt)
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`
}
