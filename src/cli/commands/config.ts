/** `deckhand config validate <file>`: the checks `deckhand serve --config` runs, without a server. */
import { type Command, Option } from 'commander'

import { loadConfigFile } from '../../config/config-file.ts'
import { type GlobalFlags, isForScripts, render } from '../command-kit.ts'
import { EXIT } from '../exit-codes.ts'
import { type CliIo, OUTPUT_FORMATS } from '../output.ts'

export function registerConfigCommands(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  const config = program
    .command('config')
    .description('check a deckhand.yaml before the server applies it')

  config
    .command('validate')
    .argument('<file>', 'the deckhand.yaml to check')
    .description('check a config file: every mistake as file:line: field: what is wrong')
    .option(
      '--ignore-env',
      'do not require the ${VARIABLES} the file uses to be set (CI without secrets)',
    )
    .addOption(
      new Option(
        '-o, --output <format>',
        'table (default), wide, json or yaml: {valid, errors, counts}',
      ).choices(OUTPUT_FORMATS),
    )
    .option('--json', 'same as -o json')
    .action((file: string, flags: GlobalFlags & { ignoreEnv?: boolean }) => {
      // The server's drivers are known when its DECKHAND_DRIVERS is in the environment, as serve reads it.
      const enabledDrivers = io.env.DECKHAND_DRIVERS?.split(',')
        .map((s) => s.trim())
        .filter(Boolean)
      const loaded = loadConfigFile(file, io.env, {
        ignoreMissingEnv: flags.ignoreEnv === true,
        enabledDrivers,
      })
      if (!loaded.ok) {
        if (isForScripts(flags)) {
          io.stdout(render(flags, { valid: false, errors: loaded.errors }, () => ''))
        } else {
          io.stderr(loaded.errors.map((line) => `${line}\n`).join(''))
        }
        setExit(EXIT.failed)
        return
      }
      const { services, stacks, triggers, prune } = loaded.config
      const counts = { services: services.length, stacks: stacks.length, triggers: triggers.length }
      io.stdout(
        render(
          flags,
          { valid: true, errors: [], counts, prune },
          () =>
            `${file}: valid (${plural(counts.services, 'service')}, ${plural(counts.stacks, 'stack')}, ` +
            `${plural(counts.triggers, 'trigger')}${prune ? ', prune on' : ''})\n`,
        ),
      )
    })
}

const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`
