/** Follows a deployment live over Server-Sent Events until it ends, printing its log as it comes. */
import type { ApiClient } from './api-client.ts'
import { CliError } from './exit-codes.ts'

const FINAL = new Set(['succeeded', 'failed', 'canceled'])

export interface SseEvent {
  event: string
  data: string
  id?: string
}

/** Splits an SSE byte stream into events (WHATWG HTML §9.2: blank line ends an event). */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder()
  let buffer = ''
  let event: SseEvent = { event: 'message', data: '' }
  let hasData = false
  const reader = body.getReader()
  try {
    for (;;) {
      const chunk = await reader.read()
      if (chunk.done) {
        return
      }
      buffer += decoder.decode(chunk.value, { stream: true })
      let newline: number
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        if (newline === buffer.length - 1 && buffer.endsWith('\r')) {
          // A CR at the end of a chunk may be the first half of CRLF; wait for the next chunk.
          break
        }
        const line = buffer.slice(0, newline)
        buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1))
        if (line === '') {
          if (hasData) {
            yield event
          }
          event = { event: 'message', data: '' }
          hasData = false
          continue
        }
        if (line.startsWith(':')) {
          continue
        }
        const colon = line.indexOf(':')
        const field = colon < 0 ? line : line.slice(0, colon)
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
        if (field === 'data') {
          event.data = hasData ? `${event.data}\n${value}` : value
          hasData = true
        } else if (field === 'event') {
          event.event = value
        } else if (field === 'id') {
          event.id = value
        }
      }
    }
  } finally {
    // Ends the HTTP request too when the caller stops early (the deployment ended).
    await reader.cancel().catch(() => undefined)
  }
}

export interface LogLineView {
  at?: string
  stream?: string
  line: string
}

/** `12:04:05 [stderr] listening` — the time of day is enough while watching. */
export function formatLogLine(line: LogLineView): string {
  const time = line.at ? line.at.slice(11, 19) : ''
  const stream = line.stream && line.stream !== 'stdout' ? ` [${line.stream}]` : ''
  return `${time}${stream} ${line.line}\n`.trimStart()
}

/**
 * Prints the log until the deployment reaches a final state and returns that state. Events
 * carrying `line` (or `lines`) are printed; one carrying a final `state` ends the follow. If the
 * stream closes first, the deployment is fetched to learn how it ended.
 */
export async function followDeployment(
  client: ApiClient,
  id: string,
  print: (line: LogLineView) => void,
): Promise<string> {
  const response = await client.fetch(`/api/v1/deployments/${encodeURIComponent(id)}/log`, {
    query: { follow: 1 },
    accept: 'text/event-stream',
  })
  if (!response.body) {
    throw new CliError(`the server sent no log stream for deployment ${id}`)
  }
  try {
    for await (const event of readSse(response.body)) {
      let payload: unknown
      try {
        payload = JSON.parse(event.data)
      } catch {
        continue
      }
      for (const line of logLinesIn(payload)) {
        print(line)
      }
      const state = finalStateIn(payload)
      if (state) {
        return state
      }
    }
  } catch (error) {
    if (error instanceof CliError) {
      throw error
    }
    // The stream broke (server restarted, proxy timeout): the deployment's own record decides.
  }
  const deployment = await client.request<{ state: string }>(
    `/api/v1/deployments/${encodeURIComponent(id)}`,
  )
  if (!FINAL.has(deployment.state)) {
    throw new CliError(
      `the log stream of deployment ${id} ended while it was ${deployment.state}; run \`deckhand deploy logs -f ${id}\` again`,
    )
  }
  return deployment.state
}

function logLinesIn(payload: unknown): LogLineView[] {
  if (!payload || typeof payload !== 'object') {
    return []
  }
  const record = payload as { line?: unknown; lines?: unknown }
  if (typeof record.line === 'string') {
    return [record as LogLineView]
  }
  if (Array.isArray(record.lines)) {
    return record.lines.filter(
      (l): l is LogLineView => typeof (l as LogLineView)?.line === 'string',
    )
  }
  return []
}

function finalStateIn(payload: unknown): string | undefined {
  if (!payload || typeof payload !== 'object') {
    return undefined
  }
  const record = payload as { state?: unknown; deployment?: { state?: unknown } }
  const state = record.state ?? record.deployment?.state
  return typeof state === 'string' && FINAL.has(state) ? state : undefined
}
