// The CLI's kubectl habits against a real server: -o table|wide|json|yaml, `list` for `ls`,
// logs as JSON Lines, one-line errors in `deploy ls`, and contexts in the config file.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { parse } from 'yaml'

import { commandService, startTestServer, type TestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'
import { BIN, cliFor, type CliRun, deckhand } from './cli-support.ts'

let server: TestServer
let cli: (...args: string[]) => Promise<CliRun>

const ok = (run: CliRun): CliRun => {
  assert.equal(run.code, 0, `expected success, got ${run.code}: ${run.stderr}`)
  return run
}

before(async () => {
  server = await startTestServer(undefined)
  cli = cliFor(server)
  await server.api('POST', '/api/v1/services', commandService('out-a', 'echo one; echo two >&2'))
  await server.api(
    'POST',
    '/api/v1/services',
    commandService('out-bad', 'echo first problem >&2; echo second >&2; exit 4'),
  )
})
after(() => server.close())

describe('-o on every read command', () => {
  test('-o json is --json, -o yaml parses to the same objects, -o wide adds columns', async () => {
    const asJson = JSON.parse(ok(await cli('service', 'ls', '-o', 'json')).stdout)
    assert.deepEqual(JSON.parse(ok(await cli('service', 'ls', '--json')).stdout), asJson)
    assert.deepEqual(parse(ok(await cli('service', 'ls', '-o', 'yaml')).stdout), asJson)
    assert.ok(asJson.some((s: any) => s.name === 'out-a'))
    const table = ok(await cli('service', 'ls')).stdout
    const wide = ok(await cli('service', 'ls', '-o', 'wide')).stdout
    assert.doesNotMatch(table, /TARGET/)
    assert.match(wide, /^NAME .* TARGET/m)
    assert.match(wide, /redeploy=echo one/)
    assert.equal((await cli('service', 'ls', '-o', 'xml')).code, 2)
    assert.equal((await cli('service', 'ls', '-o', 'yaml', '--json')).code, 2)
  })

  test('service ls has a READY column: ready/desired from the runtime, - where the driver cannot see it', async () => {
    await server.api('POST', '/api/v1/services', {
      name: 'out-proc',
      driver: 'process',
      target: { command: 'exec sleep 300', stopGrace: '1s' },
    })
    await waitFor(
      async () =>
        (await server.api('GET', '/api/v1/services/out-proc')).body.status.ready === 1 || undefined,
      {
        what: 'the process replica to run',
      },
    )
    const table = ok(await cli('service', 'ls')).stdout
    await server.api('DELETE', '/api/v1/services/out-proc')
    assert.match(table, /^NAME +DRIVER +IMAGE +READY /m)
    const columns = (name: string) =>
      table
        .split('\n')
        .find((line) => line.startsWith(`${name} `))!
        .split(/ +/)
    assert.equal(columns('out-proc')[3], '1/1')
    assert.equal(columns('out-a')[2], '-', 'no image')
    assert.equal(columns('out-a')[3], '-', 'the command driver cannot see ready instances')
  })

  test('every read command takes -o yaml', async () => {
    const trigger = (
      await server.api('POST', '/api/v1/services/out-a/triggers', { action: 'redeploy' })
    ).body
    const deployment = JSON.parse(ok(await cli('redeploy', 'out-a', '--wait', '-o', 'json')).stdout)
    const reads = [
      ['service', 'ls'],
      ['service', 'show', 'out-a'],
      ['stack', 'ls'],
      ['trigger', 'ls', 'out-a'],
      ['trigger', 'show', trigger.id],
      ['deploy', 'ls'],
      ['deploy', 'show', deployment.id],
      ['token', 'ls'],
      ['version'],
    ]
    for (const args of reads) {
      const run = ok(await cli(...args, '-o', 'yaml'))
      assert.equal(typeof parse(run.stdout), 'object', args.join(' '))
      assert.deepEqual(
        parse(run.stdout),
        JSON.parse(ok(await cli(...args, '-o', 'json')).stdout),
        args.join(' '),
      )
    }
  })

  test('ls answers to list, as in kubectl and docker', async () => {
    for (const group of ['service', 'stack', 'deploy', 'token']) {
      // JSON, not tables: an age column may tick over between the two runs.
      assert.equal(
        ok(await cli(group, 'list', '-o', 'json')).stdout,
        ok(await cli(group, 'ls', '-o', 'json')).stdout,
        group,
      )
    }
    assert.equal(
      ok(await cli('trigger', 'list', 'out-a', '--json')).stdout,
      ok(await cli('trigger', 'ls', 'out-a', '--json')).stdout,
    )
    assert.match(ok(await cli('service', 'list')).stdout, /^NAME +DRIVER/m)
  })
})

describe('deployments', () => {
  test('deploy logs --json is one object per line, with and without -f', async () => {
    const queued = JSON.parse(ok(await cli('redeploy', 'out-a', '--json')).stdout)
    const id: string = queued.deployments[0].id
    const followed = ok(await cli('deploy', 'logs', '-f', id, '--json')).stdout
    const printed = ok(await cli('deploy', 'logs', id, '--json')).stdout
    for (const text of [followed, printed]) {
      const lines = text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line))
      assert.ok(
        lines.some((l) => l.line === 'one' && l.stream === 'stdout'),
        text,
      )
      assert.ok(
        lines.some((l) => l.line === 'two' && l.stream === 'stderr'),
        text,
      )
    }
  })

  test('deploy ls shows the first line of an error; deploy show all of it', async () => {
    const failed = JSON.parse((await cli('redeploy', 'out-bad', '--wait', '--json')).stdout)
    assert.equal(failed.state, 'failed')
    assert.ok(failed.error.includes('\n'), `the error should span lines: ${failed.error}`)
    const row = ok(await cli('deploy', 'ls', '--service', 'out-bad'))
      .stdout.split('\n')
      .find((line) => line.startsWith(failed.id))!
    const firstLine = failed.error.split('\n')[0]
    assert.ok(
      row.endsWith(firstLine.length > 59 ? `${firstLine.slice(0, 59)}…` : `${firstLine} …`),
      row,
    )
    const shown = ok(await cli('deploy', 'show', failed.id)).stdout
    assert.ok(shown.includes(`error:\n${failed.error.replace(/^/gm, '  ')}\n`), shown)
  })
})

describe('a failed redeploy of a PATCHed service', () => {
  test('the service row shows what runs again, and deploy show prints the change tried', async () => {
    await server.api('POST', '/api/v1/services', commandService('out-patched', 'echo good build'))
    const patched = await server.api('PATCH', '/api/v1/services/out-patched', {
      target: { redeploy: 'echo broken build; exit 1' },
    })
    assert.equal(patched.body.target.redeploy, 'echo broken build; exit 1')
    const failed = JSON.parse((await cli('redeploy', 'out-patched', '--wait', '--json')).stdout)
    assert.equal(failed.state, 'failed')
    assert.equal(failed.tried.target.redeploy, 'echo broken build; exit 1')
    assert.equal(failed.tried.tag, undefined, 'no tag was asked for')
    const row = (await server.api('GET', '/api/v1/services/out-patched')).body
    assert.equal(row.target.redeploy, 'echo good build')
    const shown = ok(await cli('deploy', 'show', failed.id)).stdout
    assert.match(
      shown,
      /^tried:\n {2}target: \{"redeploy":"echo broken build; exit 1","scale":"echo scaled to \$DECKHAND_REPLICAS"\}\n$/m,
    )
    const asJson = JSON.parse(ok(await cli('deploy', 'show', failed.id, '-o', 'json')).stdout)
    assert.deepEqual(asJson.tried, failed.tried)
  })
})

describe('triggers', () => {
  test('trigger ls --all shows revoked triggers with their state; plain ls only live ones', async (t) => {
    await server.api('POST', '/api/v1/services', commandService('out-tr'))
    t.after(() => server.api('DELETE', '/api/v1/services/out-tr'))
    const gone = (
      await server.api('POST', '/api/v1/services/out-tr/triggers', {
        action: 'redeploy',
        name: 'gone',
      })
    ).body
    const live = (
      await server.api('POST', '/api/v1/services/out-tr/triggers', {
        action: 'redeploy',
        name: 'live',
      })
    ).body
    assert.equal((await server.api('DELETE', `/api/v1/triggers/${gone.id}`)).status, 204)
    const plain = ok(await cli('trigger', 'ls', 'out-tr')).stdout
    assert.match(plain, new RegExp(`^${live.id} +live .* live$`, 'm'))
    assert.ok(!plain.includes(gone.id))
    const all = ok(await cli('trigger', 'ls', 'out-tr', '--all')).stdout
    assert.match(all, new RegExp(`^${live.id} +live .* live$`, 'm'))
    assert.match(all, new RegExp(`^${gone.id} +gone .* revoked \\d+s ago$`, 'm'))
    const asJson = JSON.parse(ok(await cli('trigger', 'ls', 'out-tr', '-a', '-o', 'json')).stdout)
    assert.deepEqual(
      asJson.map((r: any) => [r.id, r.revokedAt !== null]),
      [
        [live.id, false],
        [gone.id, true],
      ],
    )
    assert.ok(asJson.every((r: any) => r.url === undefined && r.secret === undefined))
  })
})

describe('scale', () => {
  test('scale web 2 at 2 says nothing to do, exits 0 and queues no deployment', async (t) => {
    await server.api(
      'POST',
      '/api/v1/services',
      commandService('out-scale', 'echo deployed', { replicas: 2 }),
    )
    t.after(() => server.api('DELETE', '/api/v1/services/out-scale'))
    const before = (await server.api('GET', '/api/v1/deployments?service=out-scale')).body.items
      .length
    const run = ok(await cli('scale', 'out-scale', '2'))
    assert.equal(run.stdout, 'nothing to do: service out-scale already runs 2 replicas\n')
    assert.equal(
      JSON.parse(ok(await cli('scale', 'out-scale', '2', '--wait', '--json')).stdout).status,
      'ignored',
    )
    assert.equal(
      (await server.api('GET', '/api/v1/deployments?service=out-scale')).body.items.length,
      before,
    )
    assert.match(ok(await cli('scale', 'out-scale', '3')).stdout, /^queued deployment dpl_/)
  })
})

describe('contexts', () => {
  const configHome = (t: { after: (fn: () => void) => void }): string => {
    const dir = mkdtempSync(join(tmpdir(), 'deckhand-xdg-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    return dir
  }

  test('context set, use and ls: commands then need no flags; the file is 0600; tokens never printed', async (t) => {
    const xdg = configHome(t)
    const env = { XDG_CONFIG_HOME: xdg }
    ok(
      await deckhand(
        ['context', 'set', 'local', '--url', server.url, '--token', server.token],
        env,
      ),
    )
    ok(
      await deckhand(
        ['context', 'set', 'other', '--url', 'http://127.0.0.1:9', '--token', 'other-secret-token'],
        env,
      ),
    )
    const file = join(xdg, 'deckhand', 'config.yaml')
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.equal(statSync(join(xdg, 'deckhand')).mode & 0o777, 0o700)
    assert.equal(parse(readFileSync(file, 'utf8'))['current-context'], 'local')

    const listed = ok(await deckhand(['context', 'ls'], env))
    assert.match(listed.stdout, /^CURRENT +NAME +URL +TOKEN$/m)
    assert.match(listed.stdout, new RegExp(`^\\* +local +${server.url} +set$`, 'm'))
    assert.ok(
      !listed.stdout.includes(server.token) && !listed.stdout.includes('other-secret-token'),
    )
    const asJson = JSON.parse(ok(await deckhand(['context', 'ls', '-o', 'json'], env)).stdout)
    assert.deepEqual(asJson[1], {
      name: 'other',
      url: 'http://127.0.0.1:9',
      hasToken: true,
      current: false,
    })

    assert.match(ok(await deckhand(['service', 'ls'], env)).stdout, /^out-a /m)
    ok(await deckhand(['context', 'use', 'other'], env))
    const unreachable = await deckhand(['service', 'ls'], env)
    assert.equal(unreachable.code, 1)
    assert.match(unreachable.stderr, /cannot reach the Deckhand server at http:\/\/127\.0\.0\.1:9 /)
    assert.ok(!unreachable.stderr.includes('other-secret-token'))
    assert.match(
      ok(await deckhand(['service', 'ls', '--context', 'local'], env)).stdout,
      /^out-a /m,
    )
    assert.equal(statSync(file).mode & 0o777, 0o600)

    const unknown = await deckhand(['context', 'use', 'nope'], env)
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /no context named "nope" .*there are: local, other/)
  })

  test('context set --token-stdin reads the token from stdin, and refuses a strange name', async (t) => {
    const xdg = configHome(t)
    // spawnSync is safe here: `context set` never calls the server that runs in this process.
    const set = spawnSync(BIN, ['context', 'set', 'piped', '--url', server.url, '--token-stdin'], {
      input: `${server.token}\n`,
      encoding: 'utf8',
      env: { ...process.env, XDG_CONFIG_HOME: xdg },
    })
    assert.equal(set.status, 0, set.stderr)
    assert.ok(!set.stdout.includes(server.token))
    assert.match(ok(await deckhand(['service', 'ls'], { XDG_CONFIG_HOME: xdg })).stdout, /^out-a /m)
    assert.equal(
      (await deckhand(['context', 'set', '../evil', '--url', server.url], { XDG_CONFIG_HOME: xdg }))
        .code,
      2,
    )
  })

  test("a context's token is never sent to a URL given another way", async (t) => {
    const xdg = configHome(t)
    const env = { XDG_CONFIG_HOME: xdg }
    ok(
      await deckhand(
        ['context', 'set', 'local', '--url', 'http://127.0.0.1:9', '--token', server.token],
        env,
      ),
    )
    // The URL of the server under test, but not the context's: its token must not go along.
    const run = await deckhand(['service', 'ls', '--url', server.url], env)
    assert.equal(run.code, 2)
    assert.match(run.stderr, /no admin token/)
  })

  test('the file lives under ~/.config without XDG_CONFIG_HOME; a broken file names its line', async (t) => {
    const home = configHome(t)
    ok(
      await deckhand(['context', 'set', 'local', '--url', server.url, '--token', server.token], {
        HOME: home,
        XDG_CONFIG_HOME: '',
      }),
    )
    const file = join(home, '.config', 'deckhand', 'config.yaml')
    assert.match(readFileSync(file, 'utf8'), /name: local/)
    writeFileSync(file, 'current-context: local\ncontexts:\n  - name: local\n    url: [oops\n')
    const broken = await deckhand(['service', 'ls'], { HOME: home, XDG_CONFIG_HOME: '' })
    assert.equal(broken.code, 1)
    assert.match(broken.stderr, new RegExp(`^error: ${file}:\\d+: not valid YAML`))
    writeFileSync(file, 'contexts:\n  - name: local\n')
    assert.match(
      (await deckhand(['context', 'ls'], { HOME: home, XDG_CONFIG_HOME: '' })).stderr,
      /config\.yaml:2: contexts\[0\]\.url must be a non-empty string/,
    )
  })
})
