/**
 * The README's and the docs' command blocks work as written: each block that can run here runs
 * against a real `deckhand serve` (placeholders filled in the way a reader would), and every
 * other command block is listed with the reason it cannot, so a new block is never unchecked.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'

import { skipOrFail } from '../support/required-parts.ts'
import { freePort, spawnServer } from '../support/spawn-server.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const ADMIN = 'docs-admin-token-0123456789abcdef0123456789'

interface Block {
  file: string
  line: number
  lang: string
  text: string
}

/** Every fenced block of README.md and docs/*.md. */
function blocks(): Block[] {
  const files = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ]
  return files.flatMap((file) => {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n')
    const found: Block[] = []
    let open: { line: number; lang: string; body: string[] } | undefined
    lines.forEach((text, index) => {
      if (text.startsWith('```')) {
        if (open) {
          found.push({ file, line: open.line, lang: open.lang, text: open.body.join('\n') })
          open = undefined
        } else {
          open = { line: index + 1, lang: text.slice(3).trim(), body: [] }
        }
      } else {
        open?.body.push(text)
      }
    })
    return found
  })
}

const COMMAND = /^(deckhand|curl|npm|npx|export|source|docker|openssl|bin\/deckhand)(\s|$)/

/** A block a reader would paste into a shell. */
function isCommandBlock(block: Block): boolean {
  if (['sh', 'bash', 'shell', 'console'].includes(block.lang)) {
    return true
  }
  const first = block.text.split('\n').find((line) => line.trim() !== '' && !line.startsWith('#'))
  return block.lang === '' && first !== undefined && COMMAND.test(first)
}

const keyOf = (block: Block): string => `${block.file}: ${block.text.split('\n')[0]}`

/** Blocks that cannot run in a test, and why. Keyed by file and first line. */
const NOT_HERE: Record<string, string> = {
  'README.md: npm ci && npm start     # installs (and builds the UI), then serves on http://127.0.0.1:8080 (SQLite, process driver)':
    'installs the project and runs this very suite; .ci/run runs both commands on a fresh clone',
  'docs/cli.md: deckhand service ls [--limit n] [-w]':
    'a usage synopsis, with placeholders in brackets',
  'docs/cli.md: deckhand stack ls': 'a usage synopsis, with placeholders in brackets',
  'docs/cli.md: deckhand trigger ls <service> | --stack <name> [-a|--all]   # --all: revoked ones too':
    'a usage synopsis, with placeholders in brackets',
  'docs/cli.md: deckhand deploy ls [--service s] [--state awaiting-approval|held|queued|running|succeeded|failed|canceled] [--limit n] [-w]':
    'a usage synopsis, with placeholders in brackets',
  'docs/cli.md: deckhand token ls': 'a usage synopsis, with placeholders in brackets',
}

interface Shell {
  code: number
  output: string
}

function bash(script: string, env: Record<string, string>): Promise<Shell> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', script],
      { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
        resolve({ code, output: `${stdout}${stderr}` })
      },
    )
  })
}

/** A server of its own for a block, stopped after the test with what the block made. */
async function serverFor(t: TestContext) {
  const dataDir = mkdtempSync(join(tmpdir(), 'deckhand-docs-'))
  const server = await spawnServer({ DECKHAND_DATA_DIR: dataDir, DECKHAND_ADMIN_TOKEN: ADMIN })
  t.after(async () => {
    // Deleting the services stops their replicas, which would otherwise outlive the server.
    const services = await fetch(`${server.url}/api/v1/services`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    })
    for (const service of ((await services.json()) as { items: { name: string }[] }).items) {
      await fetch(`${server.url}/api/v1/services/${service.name}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${ADMIN}` },
      })
    }
    server.child.kill('SIGTERM')
    await server.exited
    rmSync(dataDir, { recursive: true, force: true })
  })
  return server
}

/** The block as the reader would run it against `url`, with the port it may use. */
function filled(block: Block, url: string, port: number): string {
  return block.text
    .replaceAll('http://127.0.0.1:8080', url)
    .replaceAll('4100', String(port))
    .replaceAll('<the admin token printed at first start>', '"$DOCS_ADMIN_TOKEN"')
    .replaceAll('<admin token>', '"$DOCS_ADMIN_TOKEN"')
}

const find = (file: string, first: string): Block => {
  const block = blocks().find(
    (candidate) => candidate.file === file && candidate.text.startsWith(first),
  )
  assert.ok(block, `${file} has no block starting with ${first}`)
  return block
}

const PATHS = `${join(ROOT, 'bin')}:${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}`

describe('the README and docs command blocks', () => {
  it('every command block either runs in this file or says why it cannot', () => {
    const runHere = [
      'README.md: export TOKEN=<the admin token printed at first start>',
      'README.md: export DECKHAND_TOKEN=<admin token>',
      "docs/config.md: export WEB_HOOK_TOKEN=$(openssl rand -base64 32 | tr '+/' '-_' | tr -d =)",
      'docs/cli.md: deckhand context set prod --url https://deckhand.example.com --token-stdin < token.txt',
      'docs/cli.md: source <(deckhand completion bash)                                  # in ~/.bashrc',
      "docs/cli.md: deckhand service set web scale.max=8 deploy.rollback=false target.command='node server.js'",
    ]
    const unchecked = blocks()
      .filter(isCommandBlock)
      .map(keyOf)
      .filter((key) => !runHere.includes(key) && !(key in NOT_HERE))
    assert.deepEqual(unchecked, [], 'a command block that neither runs here nor says why it cannot')
    const stale = [...runHere, ...Object.keys(NOT_HERE)].filter(
      (key) => !blocks().map(keyOf).includes(key),
    )
    assert.deepEqual(stale, [], 'listed blocks that the docs no longer have')
  })

  it('README walkthrough: the curl steps create a process service and a trigger, call it, wait for success and read the log', async (t) => {
    const server = await serverFor(t)
    const port = await freePort()
    const transcript = join(mkdtempSync(join(tmpdir(), 'deckhand-docs-')), 'transcript')
    writeFileSync(transcript, '')
    // Placeholders the reader copies from earlier answers come from the transcript of those answers.
    const script = filled(find('README.md', 'export TOKEN='), server.url, port)
      .replaceAll(
        '<token>',
        `$(grep -o 'hooks/[A-Za-z0-9_-]*' "${transcript}" | head -1 | cut -d/ -f2)`,
      )
      .replaceAll('<id>', `$(grep -o 'dpl_[0-9a-f]*' "${transcript}" | tail -1)`)
    const prelude = `set -euo pipefail\ncurl() { command curl --fail-with-body "$@" | tee -a "${transcript}"; echo >> "${transcript}"; }\n`
    const run = await bash(prelude + script, { DOCS_ADMIN_TOKEN: ADMIN })
    assert.equal(run.code, 0, run.output)
    const said = readFileSync(transcript, 'utf8')
    assert.match(said, /"url":"http:\/\/127\.0\.0\.1:\d+\/hooks\//)
    assert.match(said, /"status":"queued"/)
    assert.match(said, /"status":"succeeded"/)
    assert.match(said, /"line":/, 'the log was read')
  })

  it('README command line: add, trigger, redeploy --wait, scale, deploy ls -w, logs -f, show and completion work as written', async (t) => {
    const server = await serverFor(t)
    const port = await freePort()
    const script = filled(find('README.md', 'export DECKHAND_TOKEN='), server.url, port)
      .replaceAll(
        '<deployment id>',
        `$(deckhand deploy ls --service web -o json | grep -o 'dpl_[0-9a-f]*' | head -1)`,
      )
      // -w redraws until Ctrl-C: the reader's Ctrl-C is an interrupt two seconds in.
      .replace(/^(deckhand .* -w)(\s+#.*)?$/m, 'timeout -s INT 2 $1 || [ $? -eq 124 ]')
    const run = await bash(`set -euo pipefail\n${script}\ncomplete -p deckhand`, {
      DECKHAND_URL: server.url,
      DOCS_ADMIN_TOKEN: ADMIN,
      PATH: PATHS,
      XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'deckhand-docs-config-')),
    })
    assert.equal(run.code, 0, run.output)
    assert.match(run.output, /\/hooks\//, 'trigger add printed the URL')
    assert.match(run.output, /succeeded/, 'redeploy --wait saw the deployment succeed')
    assert.match(run.output, /complete .*deckhand/, 'the completion was loaded')
  })

  it('docs/config.md: the token recipe makes a 43-character base64url token', async () => {
    const block = find('docs/config.md', 'export WEB_HOOK_TOKEN=')
    const run = await bash(`set -euo pipefail\n${block.text}\necho "$WEB_HOOK_TOKEN"`, {})
    assert.equal(run.code, 0, run.output)
    assert.match(run.output.trim(), /^[A-Za-z0-9_-]{43}$/)
  })

  it('docs/cli.md contexts: set, use, ls, --context and rm work as written', async (t) => {
    const server = await serverFor(t)
    const home = mkdtempSync(join(tmpdir(), 'deckhand-docs-contexts-'))
    writeFileSync(join(home, 'token.txt'), ADMIN)
    const script = filled(find('docs/cli.md', 'deckhand context set prod'), server.url, 0)
    const run = await bash(`set -euo pipefail\ncd "${home}"\n${script}\ndeckhand context ls`, {
      TOKEN: ADMIN,
      PATH: PATHS,
      XDG_CONFIG_HOME: home,
    })
    assert.equal(run.code, 0, run.output)
    assert.ok(!run.output.includes(ADMIN), 'no token is shown')
    assert.match(run.output, /prod/)
  })

  it('docs/cli.md service set and edit: each line changes the service as it says', async (t) => {
    const server = await serverFor(t)
    const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }
    const created = await fetch(`${server.url}/api/v1/services`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        name: 'web',
        driver: 'process',
        target: { command: 'sleep 1000', cwd: '/tmp' },
        replicas: 0,
      }),
    })
    assert.equal(created.status, 201, await created.text())
    // The reader's editor is interactive; `true` leaves the file as it was written.
    const script = find('docs/cli.md', 'deckhand service set web').text.replace(
      'EDITOR=nano',
      'EDITOR=true',
    )
    const run = await bash(`set -euo pipefail\n${script}`, {
      DECKHAND_URL: server.url,
      DECKHAND_TOKEN: ADMIN,
      PATH: PATHS,
      XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'deckhand-docs-config-')),
    })
    assert.equal(run.code, 0, run.output)
    const service = (await (
      await fetch(`${server.url}/api/v1/services/web`, { headers })
    ).json()) as {
      scale: { max: number }
      deploy: { rollback: boolean }
      target: { command: string; cwd?: string }
    }
    assert.equal(service.scale.max, 8)
    assert.equal(service.deploy.rollback, false)
    assert.equal(service.target.command, 'node server.js')
    assert.equal(service.target.cwd, undefined)
  })

  it('docs/cli.md completion: the bash, zsh and fish lines load or install the completion', async (t) => {
    const block = find('docs/cli.md', 'source <(deckhand completion bash)')
    const [bashLine, zshLine, fishLine] = block.text
      .split('\n')
      .map((line) => line.replace(/\s+#.*$/, ''))
    const home = mkdtempSync(join(tmpdir(), 'deckhand-docs-home-'))
    const env = { PATH: PATHS, HOME: home, XDG_CONFIG_HOME: join(home, '.config') }
    const inBash = await bash(`set -euo pipefail\n${bashLine}\ncomplete -p deckhand`, env)
    assert.equal(inBash.code, 0, inBash.output)
    const hasZsh = (await bash('command -v zsh', env)).code === 0
    if (!hasZsh) {
      skipOrFail(t, 'shells', 'zsh is not installed')
      return
    }
    const inZsh = await bash(
      `zsh -c 'autoload -Uz compinit && compinit -u && ${zshLine!.replaceAll("'", "'\\''")}'`,
      env,
    )
    assert.equal(inZsh.code, 0, inZsh.output)
    const fish = await bash(`mkdir -p ~/.config/fish/completions && ${fishLine}`, env)
    assert.equal(fish.code, 0, fish.output)
    assert.match(
      readFileSync(join(home, '.config/fish/completions/deckhand.fish'), 'utf8'),
      /complete -c deckhand/,
    )
  })
})
