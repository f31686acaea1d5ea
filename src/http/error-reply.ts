/**
 * One error handler for every route: DeckhandErrors answer their status and message,
 * Fastify's own client errors keep theirs, anything else is a generic 500 whose detail goes
 * only to the log.
 */
import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify'

import { DeckhandError } from '../errors.ts'

export function replyWithError(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const { status, body } = errorAnswer(error, request.log)
  void reply.status(status).send(body)
}

/** The answer to an error, logged on `log`: shared by Fastify's routes and the hooks fast path. */
export function errorAnswer(
  error: FastifyError | Error,
  log: Pick<FastifyBaseLogger, 'info' | 'error'>,
): { status: number; body: Record<string, unknown> } {
  if (error instanceof DeckhandError) {
    if (error.status >= 500) {
      log.error({ err: error.cause ?? error, code: error.code }, error.message)
    } else {
      log.info({ code: error.code }, error.message)
    }
    const body: Record<string, unknown> = { error: error.message, code: error.code }
    if ('problems' in error) {
      body.problems = error.problems
    }
    return { status: error.status, body }
  }
  const status = (error as FastifyError).statusCode
  if (status !== undefined && status >= 400 && status < 500) {
    const message =
      (error as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? 'the body is larger than this endpoint accepts'
        : (error as FastifyError).validation
          ? `invalid request: ${validationMessage(error as FastifyError)}`
          : error.message
    log.info({ code: (error as FastifyError).code }, message)
    return {
      status,
      body: {
        error: message,
        code: status === 413 ? 'DH_ERR_HOOK_BODY_TOO_LARGE' : 'DH_ERR_VALIDATION',
      },
    }
  }
  log.error({ err: error, code: 'DH_ERR_INTERNAL' }, 'unexpected error')
  return {
    status: 500,
    body: { error: 'internal error; the server log has the details', code: 'DH_ERR_INTERNAL' },
  }
}

/**
 * Ajv says only "must NOT have additional properties" and "must be equal to one of the allowed
 * values"; a person needs the field's name, and the values it takes.
 */
function validationMessage(error: FastifyError): string {
  const choice = error.validation?.find((v) => v.keyword === 'enum')
  const allowed = (choice?.params as { allowedValues?: unknown } | undefined)?.allowedValues
  if (choice !== undefined && Array.isArray(allowed)) {
    const path = `${error.validationContext ?? 'body'}${choice.instancePath}`.replaceAll('/', '.')
    return `${path} must be one of ${allowed.map(String).join(', ')}`
  }
  const unknown = error.validation?.find((v) => v.keyword === 'additionalProperties')
  const field = (unknown?.params as { additionalProperty?: unknown } | undefined)
    ?.additionalProperty
  if (unknown === undefined || typeof field !== 'string') {
    return error.message
  }
  const path = `${error.validationContext ?? 'body'}${unknown.instancePath}`.replaceAll('/', '.')
  return `${path}.${field} is not a known field; remove it or check its spelling`
}
