/** `deckhand version`: this program's version and, when reachable, the server's. */
import { readFileSync } from 'node:fs'

import type { Command } from 'commander'

import { clientFor, emit, type GlobalFlags, withGlobalFlags } from '../command-kit.ts'
import type { CliIo } from '../output.ts'

/** The version in package.json, read once; the bin runs from the source tree. */
export const CLI_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
).version

export function registerVersionCommand(program: Command, io: CliIo): void {
  withGlobalFlags(
    program.command('version').description("print this program's version and the server's"),
  ).action(async (flags: GlobalFlags) => {
    const client = clientFor(flags, io)
    let server: string | null = null
    try {
      const document = await client.request<{ info?: { version?: string } }>('/api/openapi.json', {
        anonymous: true,
      })
      server = document.info?.version ?? null
    } catch {
      server = null
    }
    emit(
      io,
      flags,
      { client: CLI_VERSION, server, url: client.url },
      () => `deckhand ${CLI_VERSION}\nserver   ${server ?? `unreachable at ${client.url}`}\n`,
    )
  })
}
