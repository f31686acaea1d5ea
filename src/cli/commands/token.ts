/** `deckhand token ls|create|revoke`: admin tokens for the API and this command line. */
import type { Command } from 'commander'

import {
  clientFor,
  emit,
  encode,
  type GlobalFlags,
  listAll,
  withGlobalFlags,
  withLimit,
} from '../command-kit.ts'
import { type CliIo, formatAge, formatTable } from '../output.ts'

interface TokenRow {
  id: string
  name: string
  createdAt: string
  lastUsedAt: string | null
}

export function registerTokenCommands(program: Command, io: CliIo): void {
  const token = program.command('token').description('list, create and revoke admin tokens')

  withLimit(
    withGlobalFlags(
      token
        .command('ls')
        .alias('list')
        .description('list admin tokens (never the tokens themselves)'),
    ),
  ).action(async (flags: GlobalFlags & { limit: number }) => {
    const items = await listAll<TokenRow>(clientFor(flags, io), '/api/v1/tokens', {}, flags.limit)
    emit(io, flags, items, (rows) =>
      formatTable(rows, [
        { header: 'ID', value: (t) => t.id },
        { header: 'NAME', value: (t) => t.name },
        { header: 'CREATED', value: (t) => formatAge(t.createdAt, io.now()) },
        { header: 'LAST USED', value: (t) => formatAge(t.lastUsedAt, io.now()) },
      ]),
    )
  })

  withGlobalFlags(
    token
      .command('create')
      .description('create an admin token and print it, once')
      .option('--name <name>', 'who or what will use it, e.g. ci', 'admin'),
  ).action(async (flags: GlobalFlags & { name: string }) => {
    const created = await clientFor(flags, io).request<TokenRow & { token: string }>(
      '/api/v1/tokens',
      {
        method: 'POST',
        body: { name: flags.name },
      },
    )
    emit(io, flags, created, (t) => `created token ${t.name} (${t.id})\ntoken: ${t.token}\n`)
    io.stderr(
      'This token is shown only now and cannot be shown again; store it (e.g. as DECKHAND_TOKEN).\n',
    )
  })

  withGlobalFlags(
    token
      .command('revoke')
      .argument('<id>')
      .description('revoke an admin token; requests with it get 401'),
  ).action(async (id: string, flags: GlobalFlags) => {
    await clientFor(flags, io).request(`/api/v1/tokens/${encode(id)}`, { method: 'DELETE' })
    emit(io, flags, { id, revoked: true }, () => `revoked token ${id}\n`)
  })
}
