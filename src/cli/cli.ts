/** The `deckhand` command line (everything but `serve`): parses argv, runs a command, returns its exit code. */
import { Command, CommanderError } from 'commander'

import { registerActionCommands } from './commands/actions.ts'
import { registerCompletionCommand } from './commands/completion.ts'
import { registerConfigCommands } from './commands/config.ts'
import { registerContextCommands } from './commands/context.ts'
import { registerDeployCommands } from './commands/deploy.ts'
import { registerServiceCommands } from './commands/service.ts'
import { registerStackCommands } from './commands/stack.ts'
import { registerTokenCommands } from './commands/token.ts'
import { registerTriggerCommands } from './commands/trigger.ts'
import { CLI_VERSION, registerVersionCommand } from './commands/version.ts'
import { CliError, EXIT } from './exit-codes.ts'
import type { CliIo } from './output.ts'

const defaultIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  now: () => Date.now(),
  isTerminal: process.stdout.isTTY === true,
}

/** Builds the command tree; `setExit` lets a command end non-zero without throwing (deploy failed). */
export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('deckhand')
    .description(
      'Deckhand: HTTP calls in, deployments out. `deckhand serve` runs the server; the rest talk to it.',
    )
    .version(CLI_VERSION, '-V, --version', 'print the version')
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      '\nConnection: --url / DECKHAND_URL (default http://127.0.0.1:8080), --token / DECKHAND_TOKEN,\n' +
        'or a saved context (`deckhand context set|use|ls`, --context <name>).\n' +
        'Output: -o table|wide|json|yaml on every command (--json is -o json).\n' +
        'Exit codes: 0 success, 1 the operation failed, 2 bad usage.',
    )
  program
    .command('serve')
    .description('run the server (see `deckhand serve --help`)')
    // Declared for completion and help only: the bin hands `serve` to src/server/serve.ts first.
    .option('--listen <host:port>', 'address to serve on (DECKHAND_LISTEN)')
    .option('--config <file>', 'a deckhand.yaml to apply at start (DECKHAND_CONFIG)')
    .action(() => {
      throw new CliError(
        '`serve` is started by the deckhand binary (src/main.ts), not by the CLI',
        EXIT.usage,
      )
    })
  registerServiceCommands(program, io)
  registerStackCommands(program, io)
  registerTriggerCommands(program, io)
  registerDeployCommands(program, io, setExit)
  registerActionCommands(program, io, setExit)
  registerTokenCommands(program, io)
  registerConfigCommands(program, io, setExit)
  registerContextCommands(program, io)
  registerVersionCommand(program, io)
  registerCompletionCommand(program, io)
  configureTree(program, io)
  return program
}

/** Every command reports usage errors through io and throws instead of exiting the process. */
function configureTree(command: Command, io: CliIo): void {
  command.exitOverride().configureOutput({
    writeOut: (text) => io.stdout(text),
    writeErr: (text) => io.stderr(text),
    outputError: (text, write) => write(text.endsWith('\n') ? text : `${text}\n`),
  })
  for (const sub of command.commands) {
    configureTree(sub, io)
  }
}

/** Runs `deckhand <args>` (argv without node and script) and resolves with the exit code. */
export async function runCli(args: string[], io: CliIo = defaultIo): Promise<number> {
  let exitCode: number = EXIT.ok
  const program = buildProgram(io, (code) => {
    exitCode = code
  })
  if (args.length === 0) {
    io.stdout(program.helpInformation())
    return EXIT.usage
  }
  try {
    await program.parseAsync(args, { from: 'user' })
    return exitCode
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end in a CommanderError too, with exit code 0.
      if (error.exitCode === 0) {
        return EXIT.ok
      }
      return EXIT.usage
    }
    if (error instanceof CliError) {
      io.stderr(`error: ${error.message}\n`)
      return error.exitCode
    }
    io.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n`)
    return EXIT.failed
  }
}
