/** What every admin route file receives, and the small helpers they share. */
import type { Admin } from '../../admin/admin.ts'
import { notFound } from '../../errors.ts'
import type { EventBus } from '../../events.ts'
import type { DeploymentWorker } from '../../queue/deployment-worker.ts'
import type { Store } from '../../store/store.ts'

export interface ApiOptions {
  admin: Admin
  store: Store
  events: EventBus
  worker: DeploymentWorker | undefined
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
