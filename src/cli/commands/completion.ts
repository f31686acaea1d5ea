/** `deckhand completion bash|zsh|fish`: prints the shell's completion script for this CLI. */
import { Argument, type Command } from 'commander'

import { completionScript, type Shell, SHELLS } from '../completion.ts'
import type { CliIo } from '../output.ts'

export function registerCompletionCommand(program: Command, io: CliIo): void {
  program
    .command('completion')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(SHELLS))
    .description('print a shell completion script: source <(deckhand completion bash)')
    .addHelpText(
      'after',
      '\nInstall:\n' +
        "  bash  echo 'source <(deckhand completion bash)' >> ~/.bashrc\n" +
        "  zsh   echo 'source <(deckhand completion zsh)' >> ~/.zshrc\n" +
        '  fish  deckhand completion fish > ~/.config/fish/completions/deckhand.fish\n',
    )
    .action((shell: Shell) => {
      io.stdout(completionScript(program, shell))
    })
}
