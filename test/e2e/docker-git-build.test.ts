/** git.build through a real server: a Gitea push naming a commit builds <image>:<sha> and runs it. */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { before, test } from 'node:test'

import type { ContainerInspect } from '../../src/drivers/docker/docker-client.ts'
import { readFixture } from '../fixtures/senders/load.ts'
import type { PrivateDockerd } from '../support/private-dockerd.ts'
import { BASE_IMAGE, privateDockerd } from '../support/private-dockerd.ts'
import { startTestServer, type TestServer } from '../support/start-server.ts'

const handle = await privateDockerd()
const APP = `CMD ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]`
const HEALTHY = 'HEALTHCHECK --interval=100ms --timeout=2s --retries=3 CMD true'

before(async () => {
  if (handle.engine) {
    await handle.engine.buildImage('dh-git-web:seed', `FROM ${BASE_IMAGE}\n${HEALTHY}\n${APP}\n`)
  }
})

function git(cwd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-c', 'user.name=Dev One', '-c', 'user.email=dev1@acme.example', ...args],
      { cwd, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: cwd } },
      (error, stdout, stderr) =>
        error ? reject(new Error(`git ${args.join(' ')}: ${stderr}`)) : resolve(stdout.trim()),
    )
  })
}

/** A bare repository and a clone to commit from. */
async function repository(t: TestContext) {
  const root = join(tmpdir(), `dh-git-${Math.random().toString(36).slice(2, 10)}`)
  t.after(() => rm(root, { recursive: true, force: true }))
  const bare = join(root, 'web')
  const work = join(root, 'work')
  await mkdir(bare, { recursive: true })
  await git(bare, ['init', '--quiet', '--bare', '--initial-branch=main'])
  await git(root, ['clone', '--quiet', bare, work])
  return {
    url: `file://${bare}`,
    /** Commits `files` on main, pushes, and answers the commit's full sha. */
    async commit(files: Record<string, string>, message: string): Promise<string> {
      for (const [path, text] of Object.entries(files)) {
        await mkdir(join(work, path, '..'), { recursive: true })
        await writeFile(join(work, path), text)
      }
      await git(work, ['add', '--all'])
      await git(work, ['commit', '--quiet', '-m', message])
      await git(work, ['push', '--quiet', 'origin', 'HEAD:main'])
      return git(work, ['rev-parse', 'HEAD'])
    },
  }
}

/** Gitea's captured push, edited to name this repository and commit; unsigned (no secret). */
function giteaPush(
  repo: string,
  commit: string,
): { body: string; headers: Record<string, string> } {
  const fixture = readFixture('gitea-push')
  const payload = JSON.parse(fixture.body.toString('utf8'))
  payload.after = commit
  payload.commits[0].id = commit
  payload.commits[0].modified = ['app/Dockerfile']
  payload.repository.full_name = repo
  payload.repository.clone_url = repo
  const headers = Object.fromEntries(
    Object.entries(fixture.headers).filter(([name]) => !/signature/i.test(name)),
  )
  // Each push is a new delivery: a repeated id would be answered as the first one was.
  headers['X-Gitea-Delivery'] = randomUUID()
  return { body: JSON.stringify(payload), headers }
}

async function inspect(engine: PrivateDockerd, name: string): Promise<ContainerInspect> {
  return (JSON.parse(await engine.docker(['inspect', name])) as ContainerInspect[])[0]!
}

async function logOf(server: TestServer, id: string): Promise<string[]> {
  const items = (await server.api('GET', `/api/v1/deployments/${id}/log`)).body.items
  return items.map((item: { line: string }) => item.line)
}

const dockerfile = (version: string) =>
  `FROM ${BASE_IMAGE}\nCOPY version.txt /version.txt\nENV APP_VERSION=${version}\n${HEALTHY}\n${APP}\n`

test('a push naming a commit builds the image from that commit and runs it', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  t.after(() => engine.cleanup())
  const repo = await repository(t)
  const first = await repo.commit(
    { 'app/Dockerfile': dockerfile('1'), 'app/version.txt': 'one\n', 'README.md': 'web\n' },
    'first',
  )
  const name = `gitweb-${engine.runId}`
  await engine.run(['--name', name, '--network', 'none', '-e', 'GREETING=hello', 'dh-git-web:seed'])
  const server = await startTestServer(t, {
    env: { DOCKER_HOST: `unix://${engine.socketPath}`, DECKHAND_DRIVERS: 'process,command,docker' },
  })
  const created = await server.api('POST', '/api/v1/services', {
    name: 'web',
    driver: 'docker',
    target: { container: name },
    image: 'dh-git-web',
    // Pushes name the repository as acme/web; git.url says where to clone it from.
    git: {
      repo: 'acme/web',
      url: repo.url,
      branch: 'main',
      build: { context: 'app', dockerfile: 'Dockerfile' },
    },
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const url = (
    await server.api('POST', '/api/v1/services/web/triggers', { action: 'redeploy', name: 'gitea' })
  ).body.url

  const pushed = giteaPush('Acme/Web', first)
  const answer = await server.hook(`${url}?wait=120s`, pushed)

  assert.equal(answer.status, 200, JSON.stringify(answer.body))
  const id = answer.body.deployments[0].id as string
  const tag = first.slice(0, 12)
  const running = await inspect(engine, name)
  assert.equal(running.Config.Image, `dh-git-web:${tag}`)
  assert.equal(await engine.docker(['exec', name, 'cat', '/version.txt']), 'one')
  const env = Object.fromEntries(
    (running.Config.Env ?? []).map((e) => [e.split('=')[0], e.slice(e.indexOf('=') + 1)]),
  )
  assert.equal(env.GREETING, 'hello')
  assert.equal(env.APP_VERSION, '1')
  assert.equal(env.DECKHAND_GIT_COMMIT, first)
  assert.equal(env.DECKHAND_GIT_BRANCH, 'main')
  assert.equal(env.DECKHAND_IMAGE_TAG, tag)
  assert.equal((await server.api('GET', '/api/v1/services/web')).body.tag, tag)
  const log = await logOf(server, id)
  assert.ok(
    log.some((line) => line.startsWith(`cloning ${repo.url}`)),
    log.join('\n'),
  )
  assert.ok(
    log.some((line) => /^Step 2\/\d+ : COPY version.txt/.test(line)),
    'the build output streams into the log',
  )
  assert.ok(
    log.some((line) => line.startsWith(`built dh-git-web:${tag} in`)),
    log.join('\n'),
  )
  const workDir = join(server.dataDir, 'git', 'web')
  assert.equal(
    await git(workDir, ['rev-parse', 'HEAD']),
    first,
    'checked out under <dataDir>/git/<service>',
  )

  // The next push fetches into the same work dir and builds the new commit.
  const second = await repo.commit(
    { 'app/Dockerfile': dockerfile('2'), 'app/version.txt': 'two\n' },
    'second',
  )
  const again = await server.hook(`${url}?wait=120s`, giteaPush('Acme/Web', second))

  assert.equal(again.status, 200, JSON.stringify(again.body))
  assert.equal((await inspect(engine, name)).Config.Image, `dh-git-web:${second.slice(0, 12)}`)
  assert.equal(await engine.docker(['exec', name, 'cat', '/version.txt']), 'two')
  const secondLog = await logOf(server, again.body.deployments[0].id)
  assert.ok(
    secondLog.some((line) => line.startsWith(`fetching ${repo.url}`)),
    secondLog.join('\n'),
  )
  assert.ok(
    existsSync(join(workDir, 'README.md')),
    'the whole commit is checked out, not only the context',
  )
})

test('a commit whose build fails leaves the running container and names the failed step', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  t.after(() => engine.cleanup())
  const repo = await repository(t)
  const broken = await repo.commit(
    { Dockerfile: `FROM ${BASE_IMAGE}\nRUN echo compiling; echo missing dependency >&2; exit 3\n` },
    'broken',
  )
  const name = `gitweb-${engine.runId}-b`
  await engine.run(['--name', name, '--network', 'none', 'dh-git-web:seed'])
  const before = await inspect(engine, name)
  const server = await startTestServer(t, {
    env: { DOCKER_HOST: `unix://${engine.socketPath}`, DECKHAND_DRIVERS: 'process,command,docker' },
  })
  await server.api('POST', '/api/v1/services', {
    name: 'web',
    driver: 'docker',
    target: { container: name },
    image: 'dh-git-web',
    git: { repo: repo.url, branch: 'main', build: {} },
  })
  const url = (await server.api('POST', '/api/v1/services/web/triggers', { action: 'redeploy' }))
    .body.url

  const answer = await server.hook(`${url}?wait=120s`, giteaPush(repo.url, broken))

  assert.equal(answer.status, 500, JSON.stringify(answer.body))
  const deployment = (
    await server.api('GET', `/api/v1/deployments/${answer.body.deployments[0].id}`)
  ).body
  assert.match(
    deployment.error,
    new RegExp(
      `^building dh-git-web:${broken.slice(0, 12)} from ${broken.slice(0, 12)} failed, nothing was changed: .*returned a non-zero code: 3`,
    ),
  )
  assert.match(deployment.error, /compiling/)
  const after = await inspect(engine, name)
  assert.equal(after.Id, before.Id)
  assert.equal(after.State.Running, true)
})
