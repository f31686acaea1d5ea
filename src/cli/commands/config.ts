/** `deckhand config validate <file>`: the checks `deckhand serve --config` runs, without a server. */
import type { Command } from 'commander'
import { loadConfigFile } from '../../config/config-file.ts'
import { EXIT } from '../exit-codes.ts'
import { formatJson, type CliIo } from '../output.ts'

export function registerConfigCommands(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const config = program.command('config').description('check a deckhand.yaml before the server applies it')

  config
    .command('validate')
    .argument('<file>', 'the deckhand.yaml to check')
    .description('check a config file: every mistake as file:line: field: what is wrong')
    .option('--ignore-env', 'do not require the ${VARIABLES} the file uses to be set (CI without secrets)')
    .option('--json', 'print {valid, errors, counts} for scripts')
    .action((file: string, flags: { ignoreEnv?: boolean; json?: boolean }) => {
      const loaded = loadConfigFile(file, io.env, { ignoreMissingEnv: flags.ignoreEnv === true })
      if (!loaded.ok) {
        if (flags.json) {
          io.stdout(formatJson({ valid: false, errors: loaded.errors }))
        } else {
          io.stderr(loaded.errors.map((line) => `${line}\n`).join(''))
        }
        setExit(EXIT.failed)
        return
      }
      const { services, stacks, triggers, prune } = loaded.config
      const counts = { services: services.length, stacks: stacks.length, triggers: triggers.length }
      io.stdout(
        flags.json
          ? formatJson({ valid: true, errors: [], counts, prune })
          : `${file}: valid (${plural(counts.services, 'service')}, ${plural(counts.stacks, 'stack')}, ` +
            `${plural(counts.triggers, 'trigger')}${prune ? ', prune on' : ''})\n`,
      )
    })
}

const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`
