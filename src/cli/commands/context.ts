/** `deckhand context ls|use|set|rm`: named servers with their tokens in the CLI's config file. */
import { readFileSync } from 'node:fs'

import { type Command, Option } from 'commander'

import { emit, type GlobalFlags } from '../command-kit.ts'
import { contextFilePath, findContext, readContextFile, writeContextFile } from '../contexts.ts'
import { usageError } from '../exit-codes.ts'
import { type CliIo, formatTable, OUTPUT_FORMATS } from '../output.ts'

interface SetFlags {
  url: string
  token?: string
  tokenStdin?: boolean
}

export function registerContextCommands(program: Command, io: CliIo): void {
  const context = program
    .command('context')
    .description('servers and their tokens, saved by name in ~/.config/deckhand/config.yaml')
  const path = (): string => contextFilePath(io.env)

  context
    .command('ls')
    .alias('list')
    .description('list the contexts; * marks the current one (tokens are never shown)')
    .addOption(
      new Option('-o, --output <format>', 'table (default), wide, json or yaml').choices(
        OUTPUT_FORMATS,
      ),
    )
    .option('--json', 'same as -o json')
    .action((flags: GlobalFlags) => {
      const file = readContextFile(path())
      const rows = file.contexts.map((c) => ({
        name: c.name,
        url: c.url,
        hasToken: c.token !== undefined,
        current: c.name === file.currentContext,
      }))
      emit(io, flags, rows, (list) =>
        list.length === 0
          ? `no contexts in ${path()}; add one with \`deckhand context set <name> --url <url> --token <token>\`\n`
          : formatTable(list, [
              { header: 'CURRENT', value: (c) => (c.current ? '*' : '') },
              { header: 'NAME', value: (c) => c.name },
              { header: 'URL', value: (c) => c.url },
              { header: 'TOKEN', value: (c) => (c.hasToken ? 'set' : 'none') },
            ]),
      )
    })

  context
    .command('use')
    .argument('<name>')
    .description('make a context the current one: later commands talk to its server with its token')
    .action((name: string) => {
      const file = readContextFile(path())
      findContext(file, name, path())
      writeContextFile(path(), { ...file, currentContext: name })
      io.stdout(`now using context ${name}\n`)
    })

  context
    .command('set')
    .argument('<name>')
    .description('add a context or change its URL and token (the first one added becomes current)')
    .requiredOption('--url <url>', 'the server URL, e.g. https://deckhand.example.com')
    .option('--token <token>', 'the admin token to send to that URL')
    .option(
      '--token-stdin',
      'read the token from stdin (keeps it out of the shell history and `ps`)',
    )
    .action((name: string, flags: SetFlags) => {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
        throw usageError(
          `a context name is 1 to 64 letters, digits, dots, dashes or underscores; got "${name}"`,
        )
      }
      if (!/^https?:\/\/[^\s]+$/.test(flags.url)) {
        throw usageError(
          `--url must be an http(s) URL, e.g. https://deckhand.example.com; got "${flags.url}"`,
        )
      }
      if (flags.token !== undefined && flags.tokenStdin) {
        throw usageError('give --token or --token-stdin, not both')
      }
      const token = flags.tokenStdin ? readFileSync(0, 'utf8').trim() : flags.token
      const file = readContextFile(path())
      const existing = file.contexts.find((c) => c.name === name)
      const updated = {
        name,
        url: flags.url.replace(/\/+$/, ''),
        ...(token !== undefined && token !== ''
          ? { token }
          : existing?.token
            ? { token: existing.token }
            : {}),
      }
      const contexts = existing
        ? file.contexts.map((c) => (c.name === name ? updated : c))
        : [...file.contexts, updated]
      writeContextFile(path(), { currentContext: file.currentContext ?? name, contexts })
      io.stdout(`${existing ? 'updated' : 'added'} context ${name} (${updated.url}) in ${path()}\n`)
    })

  context
    .command('rm')
    .argument('<name>')
    .description('forget a context and its token')
    .action((name: string) => {
      const file = readContextFile(path())
      findContext(file, name, path())
      const contexts = file.contexts.filter((c) => c.name !== name)
      writeContextFile(path(), {
        contexts,
        ...(file.currentContext !== undefined && file.currentContext !== name
          ? { currentContext: file.currentContext }
          : {}),
      })
      io.stdout(`removed context ${name}\n`)
    })
}
