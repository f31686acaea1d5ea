/** Runs the real `bin/deckhand` as a child process, the way an operator or a script does. */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const BIN = fileURLToPath(new URL('../../bin/deckhand', import.meta.url))

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** Async on purpose: the server under test runs in this process and must keep answering. */
export function deckhand(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<CliRun> {
  return new Promise((resolve) => {
    const base = { ...process.env }
    delete base.DECKHAND_URL
    delete base.DECKHAND_TOKEN
    // The developer's own contexts (~/.config/deckhand) must not leak into a run.
    base.XDG_CONFIG_HOME = '/nonexistent/deckhand-test-config'
    execFile(
      BIN,
      args,
      { env: { ...base, ...env }, encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/** A runner bound to one server and its admin token. */
export function cliFor(server: { url: string; token: string }) {
  return (...args: string[]) =>
    deckhand(args, { DECKHAND_URL: server.url, DECKHAND_TOKEN: server.token })
}
