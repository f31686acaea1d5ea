/**
 * Shell completion scripts for bash, zsh and fish, written from the commander tree itself, so
 * every command, alias, flag and flag value the CLI knows completes and none it does not.
 */
import type { Command, Option } from 'commander'

export const SHELLS = ['bash', 'zsh', 'fish'] as const
export type Shell = (typeof SHELLS)[number]

interface Node {
  /** The command path without the program name, words joined by spaces ('' for the top). */
  path: string
  /** Names of the subcommands, aliases included. */
  subcommands: { name: string; description: string }[]
  options: Option[]
  /** Values its positional arguments may take (`completion <bash|zsh|fish>`). */
  values: string[]
}

/** Every command of the tree, parents first. */
function walk(command: Command, path = ''): Node[] {
  const subcommands = command.commands.flatMap((sub) =>
    [sub.name(), ...sub.aliases()].map((name) => ({ name, description: sub.description() })),
  )
  const values = command.registeredArguments.flatMap((argument) => argument.argChoices ?? [])
  const node: Node = { path, subcommands, options: command.options as Option[], values }
  return [
    node,
    ...command.commands.flatMap((sub) =>
      [sub.name(), ...sub.aliases()].flatMap((name) => walk(sub, path ? `${path} ${name}` : name)),
    ),
  ]
}

const flagsOf = (option: Option): string[] =>
  [option.short, option.long].filter((flag): flag is string => Boolean(flag))

/** Single-quoted for sh and fish: the only character to escape is the quote itself. */
const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`
const fishQuote = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`

export function completionScript(program: Command, shell: Shell): string {
  const nodes = walk(program)
  return shell === 'fish' ? fishScript(nodes) : bashScript(nodes, shell === 'zsh')
}

/**
 * bash: one function walks the words typed so far to the deepest known command, then offers
 * its subcommands and flags, or a flag's values after that flag. zsh runs the same function
 * through its bash compatibility layer (bashcompinit), which ships with zsh.
 */
function bashScript(nodes: Node[], zsh: boolean): string {
  const known = nodes
    .filter((node) => node.path !== '')
    .map((node) => quote(`/${node.path.replace(/ /g, '/')}`))
  const words = nodes.map((node) => {
    const candidates = [
      ...node.subcommands.map((sub) => sub.name),
      ...node.values,
      ...node.options.flatMap(flagsOf),
      '--help',
    ]
    return `    ${quote(`/${node.path.replace(/ /g, '/')}`.replace(/^\/$/, ''))}) words=${quote(candidates.join(' '))} ;;`
  })
  const values = nodes.flatMap((node) =>
    node.options
      .filter((option) => option.argChoices && option.argChoices.length > 0)
      .map((option) => {
        const keys = flagsOf(option).map((flag) =>
          quote(`/${node.path.replace(/ /g, '/')} ${flag}`.replace(/^\/ /, ' ')),
        )
        return `    ${keys.join('|')}) words=${quote(option.argChoices!.join(' '))} ;;`
      }),
  )
  const takesValue = nodes.flatMap((node) =>
    node.options
      .filter((option) => (option.required || option.optional) && !option.argChoices)
      .flatMap((option) =>
        flagsOf(option).map((flag) =>
          quote(`/${node.path.replace(/ /g, '/')} ${flag}`.replace(/^\/ /, ' ')),
        ),
      ),
  )
  return `# deckhand completion for ${zsh ? 'zsh' : 'bash'}: add to ~/.${zsh ? 'zshrc' : 'bashrc'}
#   source <(deckhand completion ${zsh ? 'zsh' : 'bash'})
${zsh ? 'autoload -U +X compinit && compinit -u\nautoload -U +X bashcompinit && bashcompinit\n' : ''}_deckhand() {
  # zsh counts array elements from 1; bash completion functions count from 0.
  [[ -n \${ZSH_VERSION-} ]] && setopt localoptions ksharrays
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" path="" word i words=""
  (( COMP_CWORD > 1 )) && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for (( i = 1; i < COMP_CWORD; i++ )); do
    word="\${COMP_WORDS[i]}"
    case "$path/$word" in
    ${known.join('|')}) path="$path/$word" ;;
    esac
  done
  case "$path $prev" in
${values.join('\n')}
    ${takesValue.length > 0 ? `${takesValue.join('|')}) COMPREPLY=(); return 0 ;;` : ''}
    *)
      case "$path" in
${words.join('\n')}
      esac ;;
  esac
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -o default -F _deckhand deckhand
`
}

/** fish: a helper names the command typed so far; each completion is conditioned on it. */
function fishScript(nodes: Node[]): string {
  const known = nodes.filter((node) => node.path !== '').map((node) => fishQuote(node.path))
  const at = (path: string): string =>
    `-n ${fishQuote(`test "$(__deckhand_path)" = ${fishQuote(path)}`)}`
  const lines: string[] = []
  for (const node of nodes) {
    for (const sub of node.subcommands) {
      lines.push(
        `complete -c deckhand -f ${at(node.path)} -a ${fishQuote(sub.name)} -d ${fishQuote(sub.description)}`,
      )
    }
    if (node.values.length > 0) {
      lines.push(`complete -c deckhand -f ${at(node.path)} -a ${fishQuote(node.values.join(' '))}`)
    }
    for (const option of node.options) {
      const parts = ['complete -c deckhand', at(node.path)]
      if (option.short) {
        parts.push(`-s ${option.short.replace(/^-/, '')}`)
      }
      if (option.long) {
        parts.push(`-l ${option.long.replace(/^--/, '')}`)
      }
      if (option.argChoices && option.argChoices.length > 0) {
        parts.push(`-x -a ${fishQuote(option.argChoices.join(' '))}`)
      } else if (option.required || option.optional) {
        parts.push('-r -F')
      }
      parts.push(`-d ${fishQuote(option.description)}`)
      lines.push(parts.join(' '))
    }
  }
  return `# deckhand completion for fish: save as ~/.config/fish/completions/deckhand.fish
#   deckhand completion fish > ~/.config/fish/completions/deckhand.fish
function __deckhand_path
    set -l known ${known.join(' ')}
    set -l path ''
    for word in (commandline -opc)[2..-1]
        set -l next (string trim -- "$path $word")
        if contains -- $next $known
            set path $next
        end
    end
    echo $path
end
complete -c deckhand -f
${lines.join('\n')}
`
}
