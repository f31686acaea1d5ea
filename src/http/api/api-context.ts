/** What every admin route file receives, and the small helpers they share. */
import type { FastifyRequest } from 'fastify'

import type { Admin } from '../../admin/admin.ts'
import { notFound } from '../../errors.ts'
import type { EventBus } from '../../events.ts'
import type { AdminToken } from '../../model/index.ts'
import type { DeploymentWorker } from '../../queue/deployment-worker.ts'
import type { Store } from '../../store/store.ts'

export interface ApiOptions {
  admin: Admin
  store: Store
  events: EventBus
  worker: DeploymentWorker | undefined
  /** The release timer, asked to look again when a freeze is set or lifted. */
  releaser?: { check(): Promise<void> } | undefined
  /** Now, in ms, for freezes' ends; Date.now when absent (tests move their own). */
  clock?: (() => number) | undefined
}

/** The admin token each API request was let in with (api-routes.ts sets it). */
const tokens = new WeakMap<FastifyRequest, AdminToken>()

export function setAdminToken(request: FastifyRequest, token: AdminToken): void {
  tokens.set(request, token)
}

/** The name of the admin token the request came with: who froze, who started. */
export function adminName(request: FastifyRequest): string {
  return tokens.get(request)?.name ?? 'admin'
}

export const pageQuerySchema = {
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
  cursor: { type: 'string', maxLength: 64 },
} as const

export const nameParams = {
  type: 'object',
  properties: { name: { type: 'string', maxLength: 128 } },
  required: ['name'],
} as const

export const idParams = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 64 } },
  required: ['id'],
} as const

export function found<T>(value: T | undefined, what: string): T {
  if (value === undefined) {
    throw notFound(what)
  }
  return value
}
