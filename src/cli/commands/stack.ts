/** `deckhand stack ls|add|show|rm`: named groups of services, redeployed together. */
import type { Command } from 'commander'

import {
  clientFor,
  commaList,
  emit,
  encode,
  type GlobalFlags,
  listAll,
  withGlobalFlags,
  withLimit,
} from '../command-kit.ts'
import { usageError } from '../exit-codes.ts'
import { type CliIo, formatAge, formatFields, formatTable } from '../output.ts'
import { readSpecFile } from '../spec-file.ts'
import { triggerColumns, type TriggerRow } from './trigger.ts'

interface StackRow {
  name: string
  services: string[]
  createdAt: string
  updatedAt: string
}

export function registerStackCommands(program: Command, io: CliIo): void {
  const stack = program.command('stack').description('list, add, show and remove stacks')

  withLimit(withGlobalFlags(stack.command('ls').alias('list').description('list stacks'))).action(
    async (flags: GlobalFlags & { limit: number }) => {
      const items = await listAll<StackRow>(clientFor(flags, io), '/api/v1/stacks', {}, flags.limit)
      emit(io, flags, items, (rows) =>
        rows.length === 0
          ? 'no stacks yet; add one with `deckhand stack add <name> <service>…`\n'
          : formatTable(rows, [
              { header: 'NAME', value: (s) => s.name },
              { header: 'SERVICES', value: (s) => s.services.join(',') },
              { header: 'UPDATED', value: (s) => formatAge(s.updatedAt, io.now()) },
            ]),
      )
    },
  )

  withGlobalFlags(
    stack
      .command('add')
      .argument('[name]', 'stack name (or `name` in the -f file)')
      .argument('[services...]', 'the services it groups')
      .option('--services <list>', 'comma-separated services (instead of arguments)', commaList)
      .option('-f, --file <file>', 'stack spec as JSON or YAML: {name, services}')
      .description('create a stack of existing services'),
  ).action(
    async (
      name: string | undefined,
      services: string[],
      flags: GlobalFlags & { file?: string; services?: string[] },
    ) => {
      const spec: Record<string, unknown> = flags.file ? await readSpecFile(flags.file) : {}
      if (name !== undefined) {
        spec.name = name
      }
      const listed = [...services, ...(flags.services ?? [])]
      if (listed.length > 0) {
        spec.services = listed
      }
      if (spec.name === undefined || !Array.isArray(spec.services)) {
        throw usageError('usage: deckhand stack add <name> <service>… (or -f stack.yaml)')
      }
      const created = await clientFor(flags, io).request<StackRow>('/api/v1/stacks', {
        method: 'POST',
        body: spec,
      })
      emit(io, flags, created, (s) => `created stack ${s.name} (${s.services.join(', ')})\n`)
    },
  )

  withGlobalFlags(
    stack.command('show').argument('<name>').description('show a stack and its triggers'),
  ).action(async (name: string, flags: GlobalFlags) => {
    const client = clientFor(flags, io)
    const shown = await client.request<StackRow>(`/api/v1/stacks/${encode(name)}`)
    const triggers = await listAll<TriggerRow>(
      client,
      `/api/v1/stacks/${encode(name)}/triggers`,
      {},
      1000,
    )
    emit(io, flags, { ...shown, triggers }, (s) => {
      const { triggers: list, ...fields } = s
      const body = formatFields({ ...fields, services: fields.services.join(', ') })
      return list.length === 0
        ? `${body}\nno triggers; add one with \`deckhand trigger add --stack ${s.name}\`\n`
        : `${body}\ntriggers:\n${formatTable(list, triggerColumns(io))}`
    })
  })

  withGlobalFlags(
    stack.command('rm').argument('<name>').description('delete a stack (its services stay)'),
  ).action(async (name: string, flags: GlobalFlags) => {
    await clientFor(flags, io).request(`/api/v1/stacks/${encode(name)}`, { method: 'DELETE' })
    emit(io, flags, { name, deleted: true }, () => `removed stack ${name}\n`)
  })
}
