// `deckhand completion bash|zsh|fish` in the real shells: each script is loaded and asked to
// complete partial command lines, as the shell does when Tab is pressed.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { isRequired } from '../support/required-parts.ts'
import { deckhand } from './cli-support.ts'

/** Why a shell's test cannot run here, said out loud; with DECKHAND_TEST_REQUIRE=shells it fails instead. */
function shellSkipReason(shell: string): string | undefined {
  if (existsSync(`/usr/bin/${shell}`)) {
    return undefined
  }
  const reason = `/usr/bin/${shell} is missing (apt-get install -y ${shell})`
  if (isRequired('shells')) {
    throw new Error(`DECKHAND_TEST_REQUIRE includes shells, but ${reason}`)
  }
  process.stderr.write(`\n!!! SKIPPING the ${shell} completion test: ${reason} !!!\n\n`)
  return reason
}

function run(file: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${file} failed: ${stderr}`, { cause: error })) : resolve(stdout),
    )
  })
}

async function script(t: { after: (fn: () => void) => void }, shell: string): Promise<string> {
  const generated = await deckhand(['completion', shell])
  assert.equal(generated.code, 0, generated.stderr)
  const dir = mkdtempSync(join(tmpdir(), 'deckhand-completion-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, `deckhand.${shell}`)
  writeFileSync(file, generated.stdout)
  return file
}

/** The words typed, the last one partial: what a bash completion function is called with. */
const BASH_CASES: [string[], string][] = [
  [['deckhand', 'ser'], 'serve service'],
  [['deckhand', 'service', ''], 'ls list add show set edit watch freeze unfreeze rm --help'],
  [['deckhand', 'deploy', 'ls', '--wa'], '--watch --watch-interval'],
  [['deckhand', 'deploy', 'ls', '-o', ''], 'table wide json yaml'],
  [['deckhand', 'deploy', 'a'], 'approve'],
  [['deckhand', 'trigger', 'add', 'web', '--action', 'scale-'], 'scale-up scale-down'],
  [['deckhand', 'completion', ''], 'bash zsh fish --help'],
  [['deckhand', 'context', 'u'], 'use'],
]

const callAll = (cases: [string[], string][]): string =>
  cases
    .map(
      ([words]) =>
        `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _deckhand; echo "\${COMPREPLY[*]}"`,
    )
    .join('\n')

test(
  'bash completes commands, subcommands, flags and flag values',
  { skip: shellSkipReason('bash') },
  async (t) => {
    const file = await script(t, 'bash')
    const out = await run('/usr/bin/bash', [
      '--norc',
      '-c',
      `source ${file}\n${callAll(BASH_CASES)}`,
    ])
    assert.deepEqual(
      out.trimEnd().split('\n'),
      BASH_CASES.map(([, expected]) => expected),
    )
    assert.match(
      await run('/usr/bin/bash', ['--norc', '-c', `source ${file}; complete -p deckhand`]),
      /-F _deckhand deckhand/,
    )
  },
)

test(
  'zsh completes through its bash layer, counting words as bash does',
  { skip: shellSkipReason('zsh') },
  async (t) => {
    const file = await script(t, 'zsh')
    // bashcompinit hands the function a 1-based COMP_WORDS and a 0-based COMP_CWORD, as here.
    const home = mkdtempSync(join(tmpdir(), 'deckhand-zsh-'))
    t.after(() => rmSync(home, { recursive: true, force: true }))
    const out = await run('/usr/bin/zsh', ['-f', '-c', `source ${file}\n${callAll(BASH_CASES)}`], {
      HOME: home,
    })
    // zsh's compgen leaves the matching to compadd, which keeps the words the typed prefix starts.
    const offered = out
      .trimEnd()
      .split('\n')
      .map((line, i) =>
        line
          .split(' ')
          .filter((w) => w.startsWith(BASH_CASES[i]![0].at(-1)!))
          .join(' '),
      )
    assert.deepEqual(
      offered,
      BASH_CASES.map(([, expected]) => expected),
    )
  },
)

test(
  'fish completes commands with their descriptions, and flag values',
  { skip: shellSkipReason('fish') },
  async (t) => {
    const file = await script(t, 'fish')
    const complete = async (line: string): Promise<string[]> =>
      (
        await run('/usr/bin/fish', [
          '--no-config',
          '-c',
          `source ${file}; complete -C ${JSON.stringify(line)}`,
        ])
      )
        .trimEnd()
        .split('\n')
    assert.deepEqual(await complete('deckhand ser'), [
      'serve\trun the server (see `deckhand serve --help`)',
      'service\tlist, add, show, change and remove services',
    ])
    assert.deepEqual(
      (await complete('deckhand deploy ls -o ')).map((l) => l.split('\t')[0]),
      ['json', 'table', 'wide', 'yaml'],
    )
    assert.deepEqual(await complete('deckhand completion '), ['bash', 'fish', 'zsh'])
    assert.ok((await complete('deckhand service ls --')).some((l) => l.startsWith('--watch\t')))
  },
)

test('completion for another shell is bad usage', async () => {
  const run = await deckhand(['completion', 'powershell'])
  assert.equal(run.code, 2)
  assert.match(run.stderr, /Allowed choices are bash, zsh, fish/)
})
