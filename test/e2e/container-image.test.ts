/**
 * The Dockerfile builds and runs on the private dockerd: healthy, UI built in, non-root, data in
 * the volume. There is no registry here, so the BASE is made from this checkout's pinned Node 24
 * (its shared libraries, busybox, the host's npm and its cache, offline). compose.yaml and the
 * systemd unit are checked with the real tools when they are installed.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, realpathSync } from 'node:fs'
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

import type { PrivateDockerd } from '../support/private-dockerd.ts'
import { privateDockerd, RUN_LABEL } from '../support/private-dockerd.ts'
import { skipOrFail } from '../support/required-parts.ts'
import { waitFor } from '../support/wait-for.ts'

const run = promisify(execFile)
const REPO = fileURLToPath(new URL('../..', import.meta.url))
const NPM_DIR = '/usr/lib/node_modules/npm'
const NPM_CACHE = join(process.env.HOME ?? '/root', '.npm', '_cacache')
const handle = await privateDockerd()

async function docker(engine: PrivateDockerd, args: string[]): Promise<string> {
  const { stdout } = await run('docker', ['-H', `unix://${engine.socketPath}`, ...args], {
    maxBuffer: 64 * 1024 * 1024,
  })
  return stdout.trim()
}

/** A rootfs tarball: the pinned node with the libraries ldd names, busybox, npm and its cache. */
async function makeNodeBase(dir: string): Promise<string> {
  const root = join(dir, 'root')
  const node = realpathSync(join(REPO, 'node_modules', 'node', 'bin', 'node'))
  for (const sub of ['bin', 'etc', 'tmp', 'usr/local/bin', 'usr/local/lib/node_modules', 'root']) {
    await mkdir(join(root, sub), { recursive: true })
  }
  await copyFile(node, join(root, 'usr/local/bin/node'))
  // The libraries of node and of the native addons the UI build loads (rolldown's needs librt).
  const addons = (await run('find', [join(REPO, 'node_modules'), '-name', '*.node'])).stdout
    .split('\n')
    .filter(Boolean)
  const { stdout } = await run('ldd', [node, ...addons])
  for (const path of new Set([...stdout.matchAll(/(\/\S+) \(0x/g)].map((match) => match[1]!))) {
    await mkdir(join(root, dirname(path)), { recursive: true })
    await copyFile(realpathSync(path), join(root, path))
  }
  await copyFile('/bin/busybox', join(root, 'bin/busybox'))
  const applets = (await run('/bin/busybox', ['--list'])).stdout.split('\n').filter(Boolean)
  for (const applet of applets.filter((name) => name !== 'busybox')) {
    await symlink('busybox', join(root, 'bin', applet))
  }
  // npm's bin links start with #!/usr/bin/env node.
  await mkdir(join(root, 'usr/bin'))
  await symlink('/bin/busybox', join(root, 'usr/bin/env'))
  await cp(NPM_DIR, join(root, 'usr/local/lib/node_modules/npm'), { recursive: true })
  await writeFile(
    join(root, 'usr/local/bin/npm'),
    '#!/bin/sh\nexec node /usr/local/lib/node_modules/npm/bin/npm-cli.js "$@"\n',
    { mode: 0o755 },
  )
  await cp(NPM_CACHE, join(root, 'root/.npm/_cacache'), { recursive: true })
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n')
  await writeFile(join(root, 'etc/group'), 'root:x:0:\n')
  const tar = join(dir, 'base.tar')
  await run('tar', ['-C', root, '-cf', tar, '.'])
  return tar
}

// Two npm installs on two cores take most of five minutes under a full test run; the suite's
// default per-test timeout (300 s) was reached within seconds when the machine was busy.
test(
  'the Dockerfile builds an image that runs healthy, non-root, UI built in, data in its volume',
  { timeout: 900_000 },
  async (t) => {
    const engine = handle.use(t)
    if (!engine) {
      return
    }
    for (const [path, what] of [
      [NPM_DIR, 'npm'],
      [NPM_CACHE, "npm's cache"],
      ['/bin/busybox', 'busybox-static'],
    ]) {
      if (!existsSync(path!)) {
        return skipOrFail(t, 'docker', `${what} is not at ${path} for the test's base image`)
      }
    }
    t.after(() => engine.cleanup())
    const dir = await mkdtemp(join(tmpdir(), 'dhimage-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const base = `deckhand-test/node24:${engine.runId}`
    const image = `deckhand-test/deckhand:${engine.runId}`
    const started = Date.now()
    await docker(engine, [
      'import',
      '--change',
      'ENV PATH=/usr/local/bin:/bin',
      '--change',
      'ENV npm_config_offline=true',
      await makeNodeBase(dir),
      base,
    ])
    await docker(engine, [
      'build',
      '-q',
      '--label',
      `${RUN_LABEL}=${engine.runId}`,
      '--build-arg',
      `BASE=${base}`,
      '-t',
      image,
      REPO,
    ])
    const builtMs = Date.now() - started

    const config = JSON.parse(
      await docker(engine, ['image', 'inspect', '--format', '{{json .Config}}', image]),
    )
    assert.deepEqual(Object.keys(config.Volumes ?? {}), ['/data'])
    assert.ok(config.Env.includes('DECKHAND_LISTEN=0.0.0.0:8080'), config.Env.join(' '))
    assert.ok(config.Healthcheck?.Test?.join(' ').includes('/healthz'))
    const listing = await docker(engine, [
      'run',
      '--rm',
      '--entrypoint',
      'ls',
      image,
      '/app',
      '/app/node_modules',
    ])
    assert.doesNotMatch(
      listing,
      /^(test|\.git|vite|typescript)$/m,
      'no tests or dev dependencies in the runtime stage',
    )
    assert.match(listing, /^fastify$/m)

    // The engine's namespace has only loopback; host networking and a port of 127.0.0.1 there.
    const port = 18_000 + Math.floor(Math.random() * 2000)
    const volume = `dhdata-${engine.runId}`
    await docker(engine, ['volume', 'create', '--label', `${RUN_LABEL}=${engine.runId}`, volume])
    const id = await engine.run([
      '--network',
      'host',
      '-e',
      `DECKHAND_LISTEN=127.0.0.1:${port}`,
      '-e',
      `DECKHAND_ADMIN_TOKEN=${'a'.repeat(40)}`,
      '--health-interval',
      '1s',
      '-v',
      `${volume}:/data`,
      image,
    ])
    const health = await waitFor(
      async () => {
        const status = await docker(engine, ['inspect', '--format', '{{.State.Health.Status}}', id])
        assert.notEqual(status, 'unhealthy', await docker(engine, ['logs', id]).catch(() => ''))
        return status === 'healthy' ? status : null
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'the container to be healthy' },
    )
    assert.equal(health, 'healthy')
    const fetchText = (path: string): Promise<string> =>
      docker(engine, [
        'exec',
        id,
        'node',
        '-e',
        `fetch('http://127.0.0.1:${port}${path}').then(async (r) => console.log(r.status, r.headers.get('content-type'), await r.text()))`,
      ])
    assert.match(await fetchText('/healthz'), /^200 application\/json.*"ok"/)
    assert.match(await fetchText('/'), /^200 text\/html.*<div id="root">/s)
    assert.notEqual(await docker(engine, ['exec', id, 'id', '-u']), '0')
    assert.notEqual(await docker(engine, ['inspect', '--format', '{{.Config.User}}', id]), '')
    assert.match(
      await docker(engine, [
        'run',
        '--rm',
        '-v',
        `${volume}:/data`,
        '--entrypoint',
        'ls',
        image,
        '/data',
      ]),
      /deckhand\.db/,
    )
    t.diagnostic(`base import + build ${builtMs} ms`)
  },
)

test('compose.yaml is valid for docker-compose and mounts the socket, the data volume and the token', async (t) => {
  if (!existsSync('/usr/bin/docker-compose')) {
    return skipOrFail(t, 'docker', 'docker-compose is not installed')
  }
  const { stdout } = await run('docker-compose', ['-f', join(REPO, 'compose.yaml'), 'config'], {
    env: { ...process.env, DECKHAND_ADMIN_TOKEN: 'b'.repeat(40) },
  })
  assert.match(stdout, /\/var\/run\/docker\.sock:\/var\/run\/docker\.sock/)
  assert.match(stdout, /deckhand-data:\/data/)
  assert.match(stdout, /DECKHAND_ADMIN_TOKEN: b{40}/)
  assert.match(stdout, /DECKHAND_DRIVERS: process,command,docker/)
  assert.match(stdout, /restart: unless-stopped/)
  await assert.rejects(
    run('docker-compose', ['-f', join(REPO, 'compose.yaml'), 'config'], {
      env: { PATH: process.env.PATH },
    }),
    /set DECKHAND_ADMIN_TOKEN/,
  )
})

test('the systemd unit passes systemd-analyze verify', async (t) => {
  if (!existsSync('/usr/bin/systemd-analyze')) {
    skipOrFail(t, 'systemd', 'systemd-analyze is not installed (Debian package systemd)')
    return
  }
  // The unit names /opt/deckhand; verify a copy that points at this checkout.
  const dir = await mkdtemp(join(tmpdir(), 'dhunit-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const unit = (await readFile(join(REPO, 'deploy/systemd/deckhand.service'), 'utf8')).replaceAll(
    '/opt/deckhand/',
    REPO,
  )
  await writeFile(join(dir, 'deckhand.service'), unit)
  const { stderr } = await run('systemd-analyze', ['verify', join(dir, 'deckhand.service')])
  assert.doesNotMatch(stderr, /deckhand\.service/, stderr)
  for (const line of [
    'NoNewPrivileges=true',
    'ProtectSystem=strict',
    'PrivateTmp=true',
    'ProtectHome=true',
    'LimitNOFILE=65536',
    'User=deckhand',
  ]) {
    assert.match(unit, new RegExp(`^${line}$`, 'm'))
  }
})
