/**
 * Freezes and the admin's override: `POST|DELETE /services/{name}/freeze` and
 * `POST /deployments/{id}/start` (PRODUCT.md section 10; docs/release-control.md).
 */
import type { FastifyInstance } from 'fastify'

import { AdminError } from '../../admin/admin.ts'
import { conflict, invalid } from '../../errors.ts'
import { MAX_FREEZE_MESSAGE_CHARS, parseFreeze } from '../../release/freeze.ts'
import { serviceView, serviceViewSchema } from '../../specs/service-spec.ts'
import { adminName, type ApiOptions, found, idParams, nameParams } from './api-context.ts'
import { deploymentView, deploymentViewSchema } from './deployments.ts'

const MAX_NOTE_CHARS = 1000

const freezeBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    until: {
      type: ['string', 'null'],
      maxLength: 40,
      description: 'a duration such as 2h, an ISO time, or null (until DELETE …/freeze)',
    },
    message: {
      type: 'string',
      maxLength: MAX_FREEZE_MESSAGE_CHARS,
      description: 'shown in every held call answer and on the service',
    },
  },
} as const

const startBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    note: { type: 'string', maxLength: MAX_NOTE_CHARS, description: 'why; written to the log' },
  },
} as const

const FREEZE_DESCRIPTION = [
  'Holds every new deployment of the service, from calls, the API and watches, until',
  '`until` or `DELETE …/freeze`: calls are still recorded and answered 202 with status held',
  'and the message, so senders keep their hooks. Deployments already held by a change window',
  'now wait for the freeze too. Body fields (the body may be left out): `until`, a duration',
  `such as 2h, an ISO time with its zone in the future, or null (the default: no end), and`,
  `\`message\` (at most ${MAX_FREEZE_MESSAGE_CHARS} characters, default "frozen"). Recorded`,
  "under the admin token's name. Freezing a frozen service replaces its freeze; there is no",
  '409. 400 names the field that is wrong.',
].join(' ')

const UNFREEZE_DESCRIPTION = [
  'Lifts the freeze: held deployments start at once unless a change window still holds them.',
  'No body. Lifting the freeze of a service that is not frozen changes nothing; there is no 409.',
].join(' ')

const START_DESCRIPTION = [
  'An admin override: a held deployment (outside its change windows, or frozen) or one awaiting',
  'approval is queued now, whatever its windows, freeze or votes. The optional body field',
  `\`note\` (one line, at most ${MAX_NOTE_CHARS} characters) is written to the log with the`,
  "admin token's name. 409 when the deployment is in any other state (queued, running or",
  'finished), including one that moved while the request was on its way.',
].join(' ')

const frozenAnswer = { description: 'the service, with its freeze', schema: serviceViewSchema }

export async function holdRoutes(
  app: FastifyInstance,
  { store, events, releaser, clock = Date.now }: ApiOptions,
): Promise<void> {
  app.post<{ Params: { name: string }; Body: { until?: string | null; message?: string } | null }>(
    '/services/:name/freeze',
    {
      schema: {
        params: nameParams,
        body: freezeBody,
        summary: 'Freeze a service',
        description: FREEZE_DESCRIPTION,
        answers: { 200: frozenAnswer },
      },
    },
    async (request) => {
      const parsed = parseFreeze(request.body ?? {}, adminName(request), clock())
      if (!parsed.ok) {
        // With `problems`, as a service's 400 has them: the UI shows the error under its field.
        throw new AdminError('freeze', [{ path: [parsed.field], message: parsed.error }])
      }
      const name = request.params.name
      const service = found(await store.setFreeze(name, parsed.value), `service ${name}`)
      request.log.info(
        { service: name, by: parsed.value.by, until: parsed.value.until },
        `${parsed.value.by} froze ${name}: ${parsed.value.message}`,
      )
      // Deployments already held (by a window) now wait for the freeze: their reason changes.
      await releaser?.check()
      return serviceView(service)
    },
  )

  app.delete<{ Params: { name: string } }>(
    '/services/:name/freeze',
    {
      schema: {
        params: nameParams,
        summary: 'Lift the freeze of a service',
        description: UNFREEZE_DESCRIPTION,
        answers: { 200: { description: 'the service, unfrozen', schema: serviceViewSchema } },
      },
    },
    async (request) => {
      const name = request.params.name
      const service = found(await store.setFreeze(name, null), `service ${name}`)
      request.log.info(
        { service: name, by: adminName(request) },
        `${adminName(request)} unfroze ${name}`,
      )
      // Released at once, unless a change window still holds them.
      await releaser?.check()
      return serviceView(service)
    },
  )

  app.post<{ Params: { id: string }; Body: { note?: string } | null }>(
    '/deployments/:id/start',
    {
      schema: {
        params: idParams,
        body: startBody,
        summary: 'Start a held or awaiting deployment now',
        description: START_DESCRIPTION,
        answers: { 200: { description: 'the deployment, queued', schema: deploymentViewSchema } },
      },
    },
    async (request) => {
      const id = request.params.id
      // One line: the note goes into the log as written.
      const note = request.body?.note?.trim() ?? ''
      if (/[\r\n]/.test(note)) {
        throw invalid('note must be one line')
      }
      const before = found(await store.getDeployment(id), `deployment ${id}`)
      const started =
        before.state === 'held' || before.state === 'awaiting-approval'
          ? await store.releaseDeployment(id, ['held', 'awaiting-approval'])
          : undefined
      if (!started) {
        const now = (await store.getDeployment(id))?.state ?? before.state
        throw conflict(
          `deployment ${id} is ${now}: only a held or awaiting-approval deployment can be started`,
        )
      }
      const by = adminName(request)
      const line =
        `${by} started ${before.state} deployment ${id} of ${started.service}` +
        (note === '' ? '' : `: ${note}`)
      request.log.info(
        { deployment: id, service: started.service, by, note, was: before.state },
        line,
      )
      // On the deployment's own log too: whoever reads why it ran finds who overrode and why.
      await store.appendLog(id, [{ at: new Date(clock()).toISOString(), stream: 'deckhand', line }])
      events.emit('deployment:queued', { deployment: started })
      return deploymentView(started)
    },
  )
}
