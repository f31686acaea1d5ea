/**
 * Runs a Docker credential helper (`docker-credential-<name> get`) the way the docker CLI does:
 * the registry's server URL on stdin, `{"ServerURL", "Username", "Secret"}` on stdout.
 * https://github.com/docker/docker-credential-helpers#development
 */
import { spawn } from 'node:child_process'

import { childEnv } from '../drivers/child-env.ts'

/** A helper answers in milliseconds; one that hangs (a keychain prompt) must not hold a deploy. */
export const HELPER_TIMEOUT_MS = 10_000
/** A helper's answer is one small JSON object; more than this is not one. */
export const MAX_HELPER_OUTPUT_BYTES = 64 * 1024

// Helper names come from config.json and become part of a program name: no paths, no options.
const HELPER_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i

export type HelperAnswer = { found: true; username: string; secret: string } | { found: false }

/** The program a helper name means, or undefined when the name could reach another program. */
export function helperProgram(name: string): string | undefined {
  return HELPER_NAME.test(name) ? `docker-credential-${name}` : undefined
}

/**
 * Asks `program` for the credentials of `serverUrl`. Resolves `{found: false}` when the helper
 * says it has none (it exits non-zero with "credentials not found"); rejects, naming the program
 * but never its output (which may hold a secret), when it fails otherwise.
 */
export function runCredentialHelper(
  program: string,
  serverUrl: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<HelperAnswer> {
  return new Promise((resolve, reject) => {
    // The helper gets the same explicit environment as every child: PATH, HOME, LANG, TZ and
    // DECKHAND_PASS_ENV (a `pass` helper needs GNUPGHOME, named there), never Deckhand's secrets.
    const child = spawn(program, ['get'], {
      env: childEnv(env),
      stdio: ['pipe', 'pipe', 'ignore'],
      timeout: HELPER_TIMEOUT_MS,
    })
    const chunks: Buffer[] = []
    let size = 0
    let tooLong = false
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_HELPER_OUTPUT_BYTES) {
        tooLong = true
        child.kill('SIGKILL')
      } else {
        chunks.push(chunk)
      }
    })
    child.stdin.on('error', () => undefined)
    child.on('error', (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'ENOENT' ? 'is not on PATH' : `could not start (${error.code ?? 'error'})`
      reject(new Error(`credential helper ${program} ${why}`))
    })
    child.on('close', (code, signal) => {
      const output = Buffer.concat(chunks).toString('utf8')
      if (tooLong) {
        const limit = MAX_HELPER_OUTPUT_BYTES
        reject(new Error(`credential helper ${program} wrote more than ${limit} bytes`))
      } else if (signal !== null) {
        const why =
          signal === 'SIGTERM'
            ? `did not answer within ${HELPER_TIMEOUT_MS} ms`
            : `was killed (${signal})`
        reject(new Error(`credential helper ${program} ${why}`))
      } else if (code !== 0) {
        // The helpers' own wording (credentials.ErrCredentialsNotFound), on stdout.
        if (/credentials not found/i.test(output)) {
          resolve({ found: false })
        } else {
          reject(new Error(`credential helper ${program} exited with ${code}`))
        }
      } else {
        try {
          resolve(readAnswer(program, output))
        } catch (error) {
          reject(error as Error)
        }
      }
    })
    child.stdin.end(serverUrl)
  })
}

function readAnswer(program: string, output: string): HelperAnswer {
  let value: unknown
  try {
    value = JSON.parse(output)
  } catch {
    throw new Error(`credential helper ${program} answered something that is not JSON`)
  }
  const { Username: username, Secret: secret } = (value ?? {}) as Record<string, unknown>
  const badUsername = username !== undefined && typeof username !== 'string'
  if (typeof secret !== 'string' || secret === '' || badUsername) {
    throw new Error(`credential helper ${program} answered without a "Secret" string`)
  }
  return { found: true, username: username ?? '', secret }
}
