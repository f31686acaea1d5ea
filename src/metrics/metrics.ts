/**
 * Prometheus metrics at GET /metrics: calls by outcome and sender, calls shed at the intake's
 * bound, deployments by action and final state, deployment durations, queue depth, and the
 * process's default metrics.
 */
import type { FastifyInstance } from 'fastify'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

import type { EventBus } from '../events.ts'
import type { DeploymentState } from '../model/index.ts'
import type { QueueStore } from '../store/store.ts'

export interface Metrics {
  registry: Registry
  /** Registers GET /metrics; pass it to buildApp's `plugins`. */
  plugin: (app: FastifyInstance) => void
  /** Stops listening to the event bus. */
  close(): void
}

// Deploys range from a restart in under a second to image pulls and health waits of many minutes.
const DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800]

export function createMetrics(
  events: EventBus,
  store: Pick<QueueStore, 'countDeployments'>,
): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })

  const calls = new Counter({
    name: 'deckhand_calls_total',
    help: 'Calls to trigger URLs and manual deployment requests, by outcome and sender',
    labelNames: ['outcome', 'sender'] as const,
    registers: [registry],
  })
  // Shed calls are never recorded, so they have no outcome or sender in deckhand_calls_total.
  const shed = new Counter({
    name: 'deckhand_calls_shed_total',
    help: 'Trigger calls answered 503 at once because the calls in flight were at their bound',
    registers: [registry],
  })
  const deployments = new Counter({
    name: 'deckhand_deployments_total',
    help: 'Deployments that reached a final state, by action and state',
    labelNames: ['action', 'state'] as const,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'deckhand_deployment_duration_seconds',
    help: 'Time from a deployment starting to its final state, by action and state',
    labelNames: ['action', 'state'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  })
  const count = (state: DeploymentState): Promise<number> => store.countDeployments(state)
  // Read from the store on each scrape rather than tracked from events: it stays true across
  // restarts and with several instances sharing one database. NaN says the store did not answer.
  new Gauge({
    name: 'deckhand_queue_depth',
    help: 'Deployments queued and not yet started',
    registers: [registry],
    async collect() {
      this.set(await count('queued').catch(() => Number.NaN))
    },
  })
  new Gauge({
    name: 'deckhand_deployments_running',
    help: 'Deployments running now',
    registers: [registry],
    async collect() {
      this.set(await count('running').catch(() => Number.NaN))
    },
  })

  const off = [
    events.on('call:recorded', ({ call }) => {
      calls.inc({ outcome: call.outcome, sender: call.sender ?? 'unknown' })
    }),
    events.on('call:shed', () => {
      shed.inc()
    }),
    events.on('deployment:finished', ({ deployment }) => {
      const labels = { action: deployment.action, state: deployment.state }
      deployments.inc(labels)
      if (deployment.startedAt && deployment.finishedAt) {
        const seconds =
          (Date.parse(deployment.finishedAt) - Date.parse(deployment.startedAt)) / 1000
        if (Number.isFinite(seconds) && seconds >= 0) {
          duration.observe(labels, seconds)
        }
      }
    }),
  ]

  const plugin = (app: FastifyInstance): void => {
    app.get(
      '/metrics',
      {
        schema: {
          summary: 'Prometheus metrics (text format)',
          tags: ['meta'],
          produces: ['text/plain'],
        } as Record<string, unknown>,
      },
      async (_request, reply) => {
        const text = await registry.metrics()
        return reply.type(registry.contentType).send(text)
      },
    )
  }

  return {
    registry,
    plugin,
    close: () => {
      for (const stop of off) {
        stop()
      }
    },
  }
}
