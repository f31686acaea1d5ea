/**
 * HTTP/1.1 over a bare socket, for requests fetch() refuses to send: duplicate headers, bytes
 * that are not UTF-8, odd methods, a chosen source address (127.0.0.x) and bodies sent slowly.
 */
import { readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'

export interface RawRequest {
  method: string
  /** Sent as is, so it may be malformed. */
  path: string
  /** In order; a name may repeat. Values are sent as latin1, so any byte 0x20–0xff goes through. */
  headers: [string, string][]
  body?: Buffer
  /** Sends the body with Transfer-Encoding: chunked instead of Content-Length. */
  chunked?: boolean
}

export interface RawAnswer {
  /** Every status line the server wrote before closing (a pipelined leftover may add one). */
  statuses: number[]
  head: string
  body: Buffer
  /** Set when the connection failed or was reset before any answer. */
  error?: string
}

export function encodeRequest(request: RawRequest): Buffer {
  const body = request.body ?? Buffer.alloc(0)
  const lines = [
    `${request.method} ${request.path} HTTP/1.1`,
    'host: 127.0.0.1',
    'connection: close',
  ]
  for (const [name, value] of request.headers) {
    lines.push(`${name}: ${value}`)
  }
  if (request.chunked) {
    lines.push('transfer-encoding: chunked')
  } else if (!request.headers.some(([name]) => name.toLowerCase() === 'content-length')) {
    lines.push(`content-length: ${body.length}`)
  }
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')
  if (!request.chunked) {
    return Buffer.concat([head, body])
  }
  const chunk = body.length
    ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')])
    : Buffer.alloc(0)
  return Buffer.concat([head, chunk, Buffer.from('0\r\n\r\n')])
}

export interface SendOptions {
  port: number
  host?: string
  /** The client's source address, e.g. 127.0.0.2. */
  localAddress?: string
  /** Gives up (and says so in `error`) after this long; a generous bound, not an assertion. */
  timeoutMs?: number
}

/** Sends one request on a fresh connection and reads until the server closes it. */
export function sendRaw(bytes: Buffer, options: SendOptions): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect({
      port: options.port,
      host: options.host ?? '127.0.0.1',
      localAddress: options.localAddress,
    })
    const chunks: Buffer[] = []
    let settled = false
    const finish = (error?: string) => {
      if (settled) {
        return
      }
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(parseAnswer(Buffer.concat(chunks), error))
    }
    const timer = setTimeout(() => finish('timed out'), options.timeoutMs ?? 60_000)
    let failure: string | undefined
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('end', () => finish(failure))
    socket.on('close', () => finish(failure))
    // EPIPE or a reset while still sending: the server answered early (413) and closed; what it
    // wrote may still be in the buffer, so the answer is read on 'close'.
    socket.on('error', (error) => (failure = error.message))
    socket.write(bytes)
  })
}

function parseAnswer(data: Buffer, error: string | undefined): RawAnswer {
  const text = data.toString('latin1')
  const statuses = [...text.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]))
  const split = data.indexOf('\r\n\r\n')
  const head = split === -1 ? text : data.subarray(0, split).toString('latin1')
  const body = split === -1 ? Buffer.alloc(0) : data.subarray(split + 4)
  return {
    statuses,
    head,
    body,
    ...(error !== undefined && statuses.length === 0 ? { error } : {}),
  }
}

/** Opens a connection and resolves once it is established; the caller owns the socket. */
export function openSocket(options: SendOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      port: options.port,
      host: options.host ?? '127.0.0.1',
      localAddress: options.localAddress,
    })
    socket.once('connect', () => resolve(socket))
    socket.once('error', reject)
  })
}

/** Resident memory of a process in bytes, from /proc (Linux). */
export function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = /VmRSS:\s+(\d+) kB/.exec(status)?.[1]
  if (kib === undefined) {
    throw new Error(`no VmRSS for pid ${pid}`)
  }
  return Number(kib) * 1024
}
