// The CLI binary against a real server: every command in table and --json form, and its errors.
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { commandService, startTestServer, type TestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'
import { cliFor, type CliRun, deckhand } from './cli-support.ts'

let server: TestServer
let cli: (...args: string[]) => Promise<CliRun>

const ok = (run: CliRun): CliRun => {
  assert.equal(run.code, 0, `expected success, got ${run.code}: ${run.stderr}`)
  return run
}
const json = <T = any>(run: CliRun): T => JSON.parse(ok(run).stdout) as T

before(async () => {
  server = await startTestServer(undefined)
  cli = cliFor(server)
})
after(() => server.close())

describe('service', () => {
  test('add, ls, show and rm a service, as tables and as JSON', async () => {
    const added = ok(
      await cli(
        'service',
        'add',
        'svc-a',
        '--driver',
        'command',
        '--command',
        'echo hi',
        '--min',
        '1',
        '--max',
        '4',
        '--replicas',
        '1',
      ),
    )
    assert.match(added.stdout, /created service svc-a \(command\)/)
    const list = ok(await cli('service', 'ls'))
    assert.match(list.stdout, /^NAME +DRIVER +IMAGE +READY +REPLICAS +SCALE/m)
    assert.match(list.stdout, /^svc-a +command +- +- +1 +1\.\.4 /m)
    const listed = json(await cli('service', 'ls', '--json'))
    assert.ok(listed.some((s: any) => s.name === 'svc-a' && s.target.redeploy === 'echo hi'))
    assert.match(ok(await cli('service', 'show', 'svc-a')).stdout, /^driver: +command$/m)
    assert.equal(json(await cli('service', 'show', 'svc-a', '--json')).scale.max, 4)
    assert.deepEqual(json(await cli('service', 'rm', 'svc-a', '--json')), {
      name: 'svc-a',
      deleted: true,
    })
    assert.equal((await cli('service', 'show', 'svc-a')).code, 1)
  })

  test('a service can come from a YAML file, with flags overriding it', async (t) => {
    const file = join(server.dataDir, 'svc.yaml')
    writeFileSync(
      file,
      'name: from-file\ndriver: command\ntarget:\n  redeploy: echo one\nscale: { min: 0, max: 2 }\n',
    )
    const created = json(await cli('service', 'add', '-f', file, '--max', '5', '--json'))
    t.after(() => cli('service', 'rm', 'from-file'))
    assert.equal(created.name, 'from-file')
    assert.deepEqual(created.scale, { min: 0, max: 5 })
  })

  test('service set changes dotted fields as one merge patch; null removes, bad pairs are usage errors', async (t) => {
    ok(
      await cli(
        'service',
        'add',
        'svc-set',
        '--driver',
        'command',
        '--command',
        'echo one',
        '--max',
        '4',
      ),
    )
    t.after(() => cli('service', 'rm', 'svc-set'))
    const run = ok(
      await cli(
        'service',
        'set',
        'svc-set',
        'scale.max=8',
        'target.redeploy=echo two words',
        'target.timeout="30s"',
        'deploy.rollback=false',
      ),
    )
    assert.equal(
      run.stdout,
      'updated service svc-set: scale.max, target.redeploy, target.timeout, deploy.rollback\n',
    )
    const shown = (await server.api('GET', '/api/v1/services/svc-set')).body
    assert.equal(shown.scale.max, 8)
    assert.deepEqual(shown.target, { redeploy: 'echo two words', timeout: '30s' })
    assert.equal(shown.deploy.rollback, false)
    const removed = json(
      await cli('service', 'set', 'svc-set', 'target.timeout=null', '-o', 'json'),
    )
    assert.deepEqual(removed.target, { redeploy: 'echo two words' })
    const refused = await cli('service', 'set', 'svc-set', 'scale.max=-1')
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /scale\.max/)
    for (const bad of ['scale.max', '=3', 'scale..max=3', '__proto__.x=1']) {
      const usage = await cli('service', 'set', 'svc-set', bad)
      assert.equal(usage.code, 2, bad)
      assert.match(usage.stderr, /is not path=value/, bad)
    }
    assert.equal((await server.api('GET', '/api/v1/services/svc-set')).body.scale.max, 8)
  })

  test('service edit opens the service as YAML in $EDITOR and saves what changed', async (t) => {
    ok(
      await cli(
        'service',
        'add',
        'svc-edit',
        '--driver',
        'command',
        '--command',
        'echo one',
        '--max',
        '4',
      ),
    )
    t.after(() => cli('service', 'rm', 'svc-edit'))
    const run = (editor: string) =>
      deckhand(['service', 'edit', 'svc-edit'], {
        DECKHAND_URL: server.url,
        DECKHAND_TOKEN: server.token,
        EDITOR: editor,
        VISUAL: '',
      })
    // The "editor" is a sed script: the file it gets is the YAML of the service's fields.
    const edited = await run(`sed -i -e 's/echo one/echo edited/' -e 's/max: 4/max: 6/'`)
    assert.equal(edited.code, 0, edited.stderr)
    assert.match(edited.stdout, /^updated service svc-edit: target, scale\n$/)
    const shown = (await server.api('GET', '/api/v1/services/svc-edit')).body
    assert.equal(shown.target.redeploy, 'echo edited')
    assert.equal(shown.scale.max, 6)
    assert.equal((await run('true')).stdout, 'service svc-edit: no changes\n')
    const broken = await run(`sed -i -e 's/max: 6/max: [/'`)
    assert.equal(broken.code, 1)
    assert.match(broken.stderr, /not YAML; nothing was changed|is not YAML/)
    const failing = await run('false')
    assert.equal(failing.code, 1)
    assert.match(failing.stderr, /the editor \(false\) exited 1; nothing was changed/)
    assert.equal((await server.api('GET', '/api/v1/services/svc-edit')).body.scale.max, 6)
  })

  test('an invalid service is refused with the field at fault, exit 1', async () => {
    const run = await cli('service', 'add', 'bad', '--driver', 'command', '--target', '{"nope":1}')
    assert.equal(run.code, 1)
    assert.match(run.stderr, /^error: .*target\.nope/)
    assert.equal(run.stderr.trim().split('\n').length, 1)
  })
})

describe('stack and trigger', () => {
  test('stack add, ls, show and rm', async (t) => {
    await server.api('POST', '/api/v1/services', commandService('st-a'))
    await server.api('POST', '/api/v1/services', commandService('st-b'))
    t.after(async () => {
      await server.api('DELETE', '/api/v1/services/st-a')
      await server.api('DELETE', '/api/v1/services/st-b')
    })
    assert.match(
      ok(await cli('stack', 'add', 'shop', 'st-a', 'st-b')).stdout,
      /created stack shop \(st-a, st-b\)/,
    )
    assert.match(ok(await cli('stack', 'ls')).stdout, /^shop +st-a,st-b /m)
    assert.deepEqual(
      json(await cli('stack', 'ls', '--json')).find((s: any) => s.name === 'shop').services,
      ['st-a', 'st-b'],
    )
    const shown = json(await cli('stack', 'show', 'shop', '--json'))
    assert.deepEqual(shown.triggers, [])
    assert.match(ok(await cli('stack', 'show', 'shop')).stdout, /^services: +st-a, st-b$/m)
    const stackTrigger = json(await cli('trigger', 'add', '--stack', 'shop', '--json'))
    assert.equal(stackTrigger.stack, 'shop')
    assert.match(ok(await cli('trigger', 'ls', '--stack', 'shop')).stdout, /redeploy/)
    ok(await cli('stack', 'rm', 'shop'))
    assert.equal((await cli('stack', 'show', 'shop')).code, 1)
  })

  test('trigger add prints the URL once with a hint; ls never shows it; rotate and revoke', async (t) => {
    await server.api('POST', '/api/v1/services', commandService('tr-a'))
    t.after(() => server.api('DELETE', '/api/v1/services/tr-a'))
    const added = ok(
      await cli(
        'trigger',
        'add',
        'tr-a',
        '--action',
        'scale-up',
        '--by',
        '2',
        '--name',
        'alerts',
        '--sender',
        'alertmanager',
        '--cooldown',
        '5m',
        '--secret',
        'sekrit',
        '--allow-ips',
        '127.0.0.1,10.0.0.0/8',
        '--env-from-query',
        'A,B',
        '--match',
        '{"query":"env","in":["prod","staging"]}',
      ),
    )
    const url = /^url: (\S+)$/m.exec(added.stdout)?.[1]
    assert.ok(url?.startsWith(`${server.url}/hooks/`), added.stdout)
    assert.match(added.stderr, /shown only now and cannot be shown again/)
    const id = /\((trg_[0-9a-f]+)\)/.exec(added.stdout)![1]!
    const shown = (await server.api('GET', `/api/v1/triggers/${id}`)).body
    assert.deepEqual(
      [shown.action, shown.by, shown.sender, shown.cooldown, shown.hasSecret],
      ['scale-up', 2, 'alertmanager', '5m', true],
    )
    assert.deepEqual(
      [shown.allowIps, shown.envFromQuery],
      [
        ['127.0.0.1', '10.0.0.0/8'],
        ['A', 'B'],
      ],
    )
    assert.deepEqual(shown.match, { query: 'env', in: ['prod', 'staging'] })

    const table = ok(await cli('trigger', 'ls', 'tr-a'))
    assert.match(
      table.stdout,
      new RegExp(`^${id} +alerts +scale-up 2 +alertmanager +yes +5m `, 'm'),
    )
    const listed = json(await cli('trigger', 'ls', 'tr-a', '--json'))
    assert.equal(listed[0].url, undefined)
    assert.ok(!JSON.stringify(listed).includes('sekrit'))

    const rotated = json(await cli('trigger', 'rotate', id, '--json'))
    assert.notEqual(rotated.url, url)
    assert.equal((await server.hook(url!)).status, 404)
    assert.match(ok(await cli('trigger', 'revoke', id)).stdout, new RegExp(`revoked trigger ${id}`))
    assert.equal((await server.hook(rotated.url)).status, 404)
  })

  test('trigger add without an owner, or with both, is bad usage', async () => {
    assert.equal((await cli('trigger', 'add')).code, 2)
    assert.equal((await cli('trigger', 'add', 'x', '--stack', 'y')).code, 2)
    assert.equal((await cli('trigger', 'add', 'x', '--action', 'explode')).code, 2)
  })
})

describe('deployments', () => {
  test('redeploy --wait follows the log and exits 0 when it succeeds, 1 when it fails', async (t) => {
    await server.api(
      'POST',
      '/api/v1/services',
      commandService('dp-ok', 'echo line-one; echo line-two >&2'),
    )
    await server.api('POST', '/api/v1/services', commandService('dp-bad', 'echo trying; exit 3'))
    t.after(async () => {
      await server.api('DELETE', '/api/v1/services/dp-ok')
      await server.api('DELETE', '/api/v1/services/dp-bad')
    })
    const good = ok(await cli('redeploy', 'dp-ok', '--wait'))
    assert.match(good.stdout, /line-one/)
    assert.match(good.stdout, /\[stderr\] line-two/)
    assert.match(good.stderr, /succeeded/)
    const bad = await cli('redeploy', 'dp-bad', '--wait')
    assert.equal(bad.code, 1)
    assert.match(bad.stdout, /trying/)
    assert.match(bad.stderr, /failed/)
    const badJson = await cli('redeploy', 'dp-bad', '--wait', '--json')
    assert.equal(badJson.code, 1)
    assert.equal(JSON.parse(badJson.stdout).state, 'failed')
  })

  test('deploy ls, show, logs and logs -f, as tables and JSON', async (t) => {
    await server.api(
      'POST',
      '/api/v1/services',
      commandService('dp-log', 'echo started; sleep 0.3; echo finished'),
    )
    t.after(() => server.api('DELETE', '/api/v1/services/dp-log'))
    const queued = json(await cli('redeploy', 'dp-log', '--json'))
    const id: string = queued.deployments[0].id
    const followed = ok(await cli('deploy', 'logs', '-f', id))
    assert.match(followed.stdout, /started[\s\S]*finished/)
    assert.match(followed.stderr, new RegExp(`deployment ${id} succeeded`))
    assert.match(ok(await cli('deploy', 'logs', id)).stdout, /finished/)
    const lines = ok(await cli('deploy', 'logs', id, '--json'))
      .stdout.trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.ok(lines.some((l: any) => l.line === 'finished'))
    assert.match(
      ok(await cli('deploy', 'ls', '--service', 'dp-log')).stdout,
      new RegExp(`^${id} +dp-log +redeploy +succeeded `, 'm'),
    )
    assert.equal(
      json(await cli('deploy', 'ls', '--service', 'dp-log', '--state', 'succeeded', '--json'))[0]
        .id,
      id,
    )
    assert.match(ok(await cli('deploy', 'show', id)).stdout, /^state: +succeeded$/m)
    assert.equal(json(await cli('deploy', 'show', id, '--json')).service, 'dp-log')
  })

  test('scale sets or steps replicas; deploy cancel stops a queued deployment', async (t) => {
    await server.api(
      'POST',
      '/api/v1/services',
      commandService('dp-scale', 'sleep 30', { scale: { min: 1, max: 5 } }),
    )
    t.after(() => server.api('DELETE', '/api/v1/services/dp-scale'))
    const up = ok(await cli('scale', 'dp-scale', '+2', '--wait'))
    assert.match(up.stdout, /scaled to 3/)
    const down = json(await cli('scale', 'dp-scale', '-1', '--wait', '--json'))
    assert.deepEqual([down.state, down.params.by], ['succeeded', -1])
    const set = json(await cli('scale', 'dp-scale', '4', '--json'))
    assert.equal(set.status, 'queued')
    assert.equal((await cli('scale', 'dp-scale', '9')).code, 1)
    assert.equal((await cli('scale', 'dp-scale', 'many')).code, 2)

    const running = json(await cli('redeploy', 'dp-scale', '--json')).deployments[0].id
    await waitFor(
      async () =>
        (await server.api('GET', `/api/v1/deployments/${running}`)).body.state === 'running',
      { what: 'running' },
    )
    const queued = json(await cli('redeploy', 'dp-scale', '--tag', 'v2', '--json'))
    const waiting = queued.deployments[0].id
    assert.match(ok(await cli('deploy', 'cancel', waiting)).stdout, /canceled/)
    assert.equal(json(await cli('deploy', 'cancel', running, '--json')).id, running)
    await waitFor(
      async () =>
        (await server.api('GET', `/api/v1/deployments/${running}`)).body.state === 'canceled',
      { what: 'canceled' },
    )
    const logs = await cli('deploy', 'logs', '-f', running)
    assert.equal(logs.code, 1)
    assert.match(logs.stderr, /canceled/)
  })

  test('rollback redeploys the previous successful deployment', async (t) => {
    await server.api('POST', '/api/v1/services', commandService('dp-rb'))
    t.after(() => server.api('DELETE', '/api/v1/services/dp-rb'))
    assert.equal((await cli('rollback', 'dp-rb')).code, 1)
    ok(await cli('redeploy', 'dp-rb', '--wait'))
    ok(await cli('redeploy', 'dp-rb', '--wait'))
    const rolled = json(await cli('rollback', 'dp-rb', '--wait', '--json'))
    assert.deepEqual([rolled.action, rolled.state], ['rollback', 'succeeded'])
  })
})

describe('tokens, version and help', () => {
  test('token create prints the token once; it works; revoke ends it', async () => {
    const created = json(await cli('token', 'create', '--name', 'ci', '--json'))
    assert.match(created.token, /^[A-Za-z0-9_-]{43}$/)
    const asCi = await deckhand(['service', 'ls'], {
      DECKHAND_URL: server.url,
      DECKHAND_TOKEN: created.token,
    })
    assert.equal(asCi.code, 0)
    assert.match(ok(await cli('token', 'ls')).stdout, new RegExp(`^${created.id} +ci `, 'm'))
    assert.ok(json(await cli('token', 'ls', '--json')).every((t: any) => t.token === undefined))
    ok(await cli('token', 'revoke', created.id))
    assert.equal(
      (
        await deckhand(['service', 'ls'], {
          DECKHAND_URL: server.url,
          DECKHAND_TOKEN: created.token,
        })
      ).code,
      1,
    )
  })

  test('version names this program and the server', async () => {
    assert.match(
      ok(await cli('version')).stdout,
      /^deckhand \d+\.\d+\.\d+\nserver +\d+\.\d+\.\d+$/m,
    )
    assert.deepEqual(Object.keys(json(await cli('version', '--json'))), ['client', 'server', 'url'])
  })

  test('every command answers --help with exit 0', async () => {
    const commands = [
      [],
      ['service'],
      ['service', 'ls'],
      ['service', 'add'],
      ['service', 'show'],
      ['service', 'set'],
      ['service', 'edit'],
      ['service', 'rm'],
      ['stack', 'ls'],
      ['stack', 'add'],
      ['stack', 'show'],
      ['stack', 'rm'],
      ['trigger', 'ls'],
      ['trigger', 'add'],
      ['trigger', 'revoke'],
      ['trigger', 'rotate'],
      ['deploy', 'ls'],
      ['deploy', 'show'],
      ['deploy', 'logs'],
      ['deploy', 'cancel'],
      ['redeploy'],
      ['rollback'],
      ['scale'],
      ['token', 'ls'],
      ['token', 'create'],
      ['token', 'revoke'],
      ['config', 'validate'],
      ['version'],
      ['completion'],
      ['context', 'ls'],
      ['context', 'use'],
      ['context', 'set'],
      ['context', 'rm'],
    ]
    const runs = await Promise.all(commands.map((args) => deckhand([...args, '--help'])))
    runs.forEach((run, index) => {
      assert.equal(run.code, 0, `${commands[index]!.join(' ')} --help`)
      assert.match(run.stdout, /^Usage: deckhand/m)
    })
    assert.match(
      runs.find((_, i) => commands[i]!.join(' ') === 'trigger add')!.stdout,
      /--allow-ips <list>/,
    )
  })
})

describe('errors a person can act on', () => {
  test('an unreachable server: exit 1, one line naming the URL', async () => {
    const port = await closedPort()
    const run = await deckhand(['service', 'ls'], {
      DECKHAND_URL: `http://127.0.0.1:${port}`,
      DECKHAND_TOKEN: 'x',
    })
    assert.equal(run.code, 1)
    assert.match(
      run.stderr,
      new RegExp(
        `^error: cannot reach the Deckhand server at http://127.0.0.1:${port} \\(ECONNREFUSED\\).*DECKHAND_URL`,
      ),
    )
    assert.equal(run.stderr.trim().split('\n').length, 1)
  })

  test('a wrong token: exit 1, the token itself never printed', async () => {
    const run = await deckhand([
      'service',
      'ls',
      '--url',
      server.url,
      '--token',
      'wrong-token-value',
    ])
    assert.equal(run.code, 1)
    assert.match(run.stderr, /refused the admin token \(401\).*DECKHAND_TOKEN/)
    // `token create` itself needs a token: the hint says where the first one comes from.
    assert.match(
      run.stderr,
      /first token is the one the server printed on its first start, or the DECKHAND_ADMIN_TOKEN/,
    )
    assert.ok(!run.stderr.includes('wrong-token-value'))
  })

  test('no token at all is bad usage', async () => {
    const run = await deckhand(['deploy', 'ls'], { DECKHAND_URL: server.url })
    assert.equal(run.code, 2)
    assert.match(
      run.stderr,
      /no admin token: set DECKHAND_TOKEN, pass --token, or save one with `deckhand context set`/,
    )
    assert.match(
      run.stderr,
      /prints the first one on its first start, or takes DECKHAND_ADMIN_TOKEN/,
    )
  })

  test('unknown names: exit 1 with the server message', async () => {
    for (const args of [
      ['service', 'show', 'ghost'],
      ['service', 'rm', 'ghost'],
      ['stack', 'show', 'ghost'],
      ['trigger', 'ls', 'ghost'],
      ['trigger', 'revoke', 'trg_0000'],
      ['deploy', 'show', 'dpl_0000'],
      ['redeploy', 'ghost'],
      ['token', 'revoke', 'tok_0000'],
    ]) {
      const run = await cli(...args)
      assert.equal(run.code, 1, args.join(' '))
      assert.match(run.stderr, /^error: \w+ \S+ does not exist/, args.join(' '))
    }
  })

  test('unknown commands, flags and missing arguments: exit 2', async () => {
    for (const args of [
      ['bogus'],
      ['service', 'ls', '--bogus'],
      ['service', 'show'],
      ['deploy', 'logs'],
      ['scale', 'web', '+0'],
    ]) {
      assert.equal((await cli(...args)).code, 2, args.join(' '))
    }
  })
})

/** A port nothing listens on: bind one, note it, close it. */
async function closedPort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise((resolve) => probe.close(resolve))
  return port
}
