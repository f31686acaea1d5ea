/**
 * The CAs Docker's `certs.d` directory trusts for one registry: `<dir>/<host:port>/*.crt`, as the
 * Docker daemon reads them for a pull (https://docs.docker.com/engine/security/certificates/).
 * Read at each request, as the daemon does, so a certificate put there needs no restart.
 * Client certificates (`*.cert` with `*.key`) are not read: Deckhand only asks for digests.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

// A name, an IPv4 address or a bracketed IPv6 one, with an optional port: never a path.
const HOST_DIRECTORY = /^(?:[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

/** The PEM texts of `<dir>/<host>/*.crt`, by file name; none when that directory does not exist. */
export async function certsDirCa(dir: string, host: string): Promise<string[]> {
  if (!HOST_DIRECTORY.test(host) || host.includes('..')) {
    return []
  }
  const hostDir = join(dir, host)
  let names: string[]
  try {
    names = await readdir(hostDir)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return []
    }
    throw new Error(`${hostDir} cannot be read: ${(error as Error).message}`, { cause: error })
  }
  const files = names.filter((name) => name.endsWith('.crt')).sort()
  return Promise.all(
    files.map(async (name) => {
      const file = join(hostDir, name)
      try {
        return await readFile(file, 'utf8')
      } catch (error) {
        throw new Error(`${file} cannot be read: ${(error as Error).message}`, { cause: error })
      }
    }),
  )
}
