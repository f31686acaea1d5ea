/**
 * The address the server listens on, checked before anything else starts: a port already in
 * use is one sentence naming the address and the setting, not a stack trace after the store
 * opened and the drivers adopted their replicas.
 */
import { createServer } from 'node:net'

export class ListenError extends Error {
  override name = 'ListenError'
}

/** Resolves when host:port can be bound now (port 0 always can); else throws ListenError. */
export async function ensureListenable(host: string, port: number): Promise<void> {
  if (port === 0) {
    return
  }
  const probe = createServer()
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (error) => reject(listenError(error, host, port)))
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()))
  })
}

/** The sentence for a failed bind, or the error itself when it is not about the address. */
export function listenError(error: unknown, host: string, port: number): Error {
  const code = (error as { code?: string } | null)?.code
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`
  const fix = 'set DECKHAND_LISTEN (or serve --listen) to another address'
  if (code === 'EADDRINUSE') {
    return new ListenError(
      `cannot listen on ${address}: another program already uses it; stop it, or ${fix}`,
      { cause: error },
    )
  }
  if (code === 'EACCES') {
    return new ListenError(
      `cannot listen on ${address}: this user may not bind that port (ports under 1024 need privileges); ${fix}`,
      { cause: error },
    )
  }
  if (code === 'EADDRNOTAVAIL') {
    return new ListenError(
      `cannot listen on ${address}: no network interface of this machine has that address; ${fix}`,
      { cause: error },
    )
  }
  return error instanceof Error ? error : new Error(String(error))
}
