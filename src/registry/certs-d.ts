/**
 * What Docker's `certs.d` directory holds for one registry, as the Docker daemon reads it for a
 * pull (https://docs.docker.com/engine/security/certificates/): `<dir>/<host:port>/*.crt` are
 * CAs trusted for it, and a `*.cert` with the `*.key` of the same name is the client
 * certificate shown to it. Read at each request, as the daemon does, so a certificate put
 * there needs no restart.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

// A name, an IPv4 address or a bracketed IPv6 one, with an optional port: never a path.
const HOST_DIRECTORY = /^(?:[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

export interface CertsDir {
  /** The directory read, `<dir>/<host>`, for messages. */
  directory: string
  /** The PEM texts of its `*.crt`, by file name. */
  ca: string[]
  /** The first `*.cert` by name with its `*.key` (PEM), or null when there is none. */
  clientCertificate: { cert: string; key: string; file: string } | null
}

/**
 * `<dir>/<host>`'s CAs and client certificate; empty when that directory does not exist.
 * Rejects, naming the files (never their content), when one cannot be read or a `.cert` has
 * no `.key` or a `.key` no `.cert`: Docker refuses such a directory too.
 */
export async function readCertsDir(dir: string, host: string): Promise<CertsDir> {
  const hostDir = join(dir, host)
  const none: CertsDir = { directory: hostDir, ca: [], clientCertificate: null }
  if (!HOST_DIRECTORY.test(host) || host.includes('..')) {
    return none
  }
  let names: string[]
  try {
    names = (await readdir(hostDir)).sort()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return none
    }
    throw new Error(`${hostDir} cannot be read: ${(error as Error).message}`, { cause: error })
  }
  const read = async (name: string): Promise<string> => {
    const file = join(hostDir, name)
    try {
      return await readFile(file, 'utf8')
    } catch (error) {
      throw new Error(`${file} cannot be read: ${(error as Error).message}`, { cause: error })
    }
  }
  const stems = (suffix: string): string[] =>
    names.filter((name) => name.endsWith(suffix)).map((name) => name.slice(0, -suffix.length))
  const certs = stems('.cert')
  const keys = stems('.key')
  for (const stem of certs.filter((stem) => !keys.includes(stem))) {
    throw new Error(`${join(hostDir, `${stem}.cert`)} has no ${stem}.key beside it`)
  }
  for (const stem of keys.filter((stem) => !certs.includes(stem))) {
    throw new Error(`${join(hostDir, `${stem}.key`)} has no ${stem}.cert beside it`)
  }
  const ca = await Promise.all(names.filter((name) => name.endsWith('.crt')).map(read))
  const first = certs[0]
  const clientCertificate =
    first === undefined
      ? null
      : {
          cert: await read(`${first}.cert`),
          key: await read(`${first}.key`),
          file: join(hostDir, `${first}.cert`),
        }
  return { directory: hostDir, ca, clientCertificate }
}
