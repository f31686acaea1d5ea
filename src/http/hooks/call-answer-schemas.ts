/**
 * The answers of an accepted call (acceptedAnswer in calls/accept-call.ts, the wait in
 * hook-call.ts), for the OpenAPI document: trigger calls and the admin API's manual
 * deployments and rollbacks answer alike.
 */
import { DEPLOYMENT_ACTIONS, DEPLOYMENT_STATES } from '../../model/index.ts'
import type { Answer } from '../answer-schemas.ts'

const nullableString = { type: ['string', 'null'] } as const

const acceptedSchema = {
  $id: 'Accepted',
  type: 'object',
  required: ['status', 'deployments'],
  properties: {
    status: {
      type: 'string',
      enum: ['queued', 'held', 'awaiting-approval'],
      description: 'what the change waits for: votes first, then a window or freeze, else queued',
    },
    startsAt: {
      ...nullableString,
      description:
        'when held: when the first held deployment starts; null while a freeze has no end',
    },
    message: { type: 'string', description: 'when held: why (the freeze message, the windows)' },
    deployments: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'service', 'action', 'coalesced'],
        properties: {
          id: { type: 'string' },
          service: { type: 'string' },
          action: { type: 'string', enum: [...DEPLOYMENT_ACTIONS] },
          coalesced: { type: 'boolean', description: 'joined a deployment already pending' },
          hold: {
            type: 'object',
            description: 'when held: why and until when',
            required: ['until', 'reason'],
            properties: { until: nullableString, reason: { type: 'string' } },
          },
          note: { type: 'string', description: 'what the call asked for that was not taken' },
        },
      },
    },
  },
} as const

const ignoredSchema = {
  $id: 'Ignored',
  type: 'object',
  required: ['status', 'reason'],
  properties: {
    status: { const: 'ignored' },
    reason: { type: 'string', description: 'why nothing was queued' },
  },
} as const

/** The answer of a call with ?wait= whose deployments finished in time. */
const waitedSchema = {
  $id: 'Waited',
  type: 'object',
  required: ['status', 'deployments'],
  properties: {
    status: { type: 'string', enum: ['succeeded', 'failed'] },
    deployments: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'service', 'action', 'state', 'error'],
        properties: {
          id: { type: 'string' },
          service: { type: 'string' },
          action: { type: 'string', enum: [...DEPLOYMENT_ACTIONS] },
          state: { type: 'string', enum: [...DEPLOYMENT_STATES] },
          error: nullableString,
        },
      },
    },
  },
} as const

/** 202 with the deployments, or 200 ignored with the reason. */
export const acceptedAnswers: Readonly<Record<number, Answer>> = {
  202: { description: 'deployments queued, held or awaiting approval', schema: acceptedSchema },
  200: { description: 'nothing to deploy, and why', schema: ignoredSchema },
}

/** A trigger call's: as above, and with ?wait= the outcome once the deployments finished. */
export const hookCallAnswers: Readonly<Record<number, Answer>> = {
  ...acceptedAnswers,
  200: {
    description: 'ignored with the reason; with ?wait=, every deployment succeeded in time',
    schema: { anyOf: [ignoredSchema, waitedSchema] },
  },
  500: { description: 'with ?wait=: a deployment did not succeed', schema: waitedSchema },
}
