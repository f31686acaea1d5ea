// Reads Server-Sent Events from a fetch body: EventSource cannot send an Authorization header.

export interface ServerEvent {
  event: string
  data: string
}

/** Calls `onEvent` for each complete event until the stream ends (or its fetch is aborted). */
export async function readEvents(
  body: ReadableStream<Uint8Array>,
  onEvent: (e: ServerEvent) => void,
): Promise<void> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  let event = 'message'
  let data: string[] = []
  for (;;) {
    const { value, done } = await reader.read()
    if (done) {
      return
    }
    // stream: true keeps a multi-byte character split across chunks for the next read.
    buffer += decoder.decode(value, { stream: true })
    let newline = buffer.search(/\r?\n/)
    while (newline !== -1) {
      const line = buffer.slice(0, newline)
      buffer = buffer.slice(buffer[newline] === '\r' ? newline + 2 : newline + 1)
      if (line === '') {
        if (data.length > 0) {
          onEvent({ event, data: data.join('\n') })
        }
        event = 'message'
        data = []
      } else if (line.startsWith('event:')) {
        event = line.slice(6).trim()
      } else if (line.startsWith('data:')) {
        data.push(line.slice(5).replace(/^ /, ''))
      }
      newline = buffer.search(/\r?\n/)
    }
  }
}
