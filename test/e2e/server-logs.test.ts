/** What `deckhand serve` prints: lines for calls and deployments, human text or JSON, and start refusals. */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'

import { type SpawnedServer, spawnServer } from '../support/spawn-server.ts'
import { waitFor } from '../support/wait-for.ts'

const TOKEN = 'server-logs-admin-token-0123456789abcdefghij'
const MAIN = join(import.meta.dirname, '..', '..', 'src', 'main.ts')

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'deckhand-logs-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function started(t: TestContext, env: Record<string, string>): Promise<SpawnedServer> {
  const server = await spawnServer({
    DECKHAND_DATA_DIR: tempDir(t),
    DECKHAND_ADMIN_TOKEN: TOKEN,
    ...env,
  })
  t.after(async () => {
    if (server.child.exitCode === null) {
      server.child.kill('SIGKILL')
      await server.exited
    }
  })
  return server
}

async function api(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return response.json()
}

/** A command service with a trigger; answers the trigger's URL. */
async function serviceWithTrigger(url: string): Promise<string> {
  await api(url, 'POST', '/api/v1/services', {
    name: 'web',
    driver: 'command',
    target: { redeploy: 'true' },
  })
  const trigger = await api(url, 'POST', '/api/v1/services/web/triggers', {
    name: 'ci',
    action: 'redeploy',
    cooldown: '0s',
  })
  return trigger.url as string
}

function jsonLines(output: string): Record<string, any>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, any>)
}

test('every trigger call and every deployment start and end is an info line; UI polling and health checks are not', async (t) => {
  const server = await started(t, {})
  const hookUrl = await serviceWithTrigger(server.url)
  const answer = await fetch(`${hookUrl}?wait=30s`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  })
  assert.equal(answer.status, 200, 'the deployment succeeded')
  const refused = await fetch(hookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    signal: AbortSignal.timeout(10_000),
  })
  assert.equal(refused.status, 202, 'a second call is accepted too')
  assert.equal((await fetch(`${hookUrl}?wait=soon`, { method: 'POST', body: '{}' })).status, 400)
  for (let i = 0; i < 3; i += 1) {
    await api(server.url, 'GET', '/api/v1/services')
    await fetch(`${server.url}/healthz`)
  }
  await waitFor(
    () =>
      jsonLines(server.output()).filter((l) => /^deployment \S+ succeeded in /.test(l.msg))
        .length >= 2,
    { what: 'two deployments to end in the log' },
  )

  const info = jsonLines(server.output()).filter((line) => line.level === 30)
  const calls = info.filter((line) => String(line.msg).startsWith('call '))
  assert.equal(calls.length, 3, `three call lines: ${calls.map((l) => l.msg).join(' | ')}`)
  assert.deepEqual(
    calls
      .map((l) => [l.outcome, l.status, l.service, l.trigger, l.sender])
      .sort((a, b) => a[1] - b[1]),
    [
      ['queued', 202, 'web', 'ci', 'generic'],
      ['queued', 202, 'web', 'ci', 'generic'],
      ['rejected', 400, 'web', 'ci', 'generic'],
    ].sort((a, b) => Number(a[1]) - Number(b[1])),
  )
  assert.match(
    calls.find((l) => l.status === 400)!.msg,
    /^call rejected 400 to web \(trigger ci\) from generic: .*wait/,
  )
  const starts = info.filter((l) => /^deployment \S+ started: redeploy web$/.test(l.msg))
  const ends = info.filter((l) =>
    /^deployment \S+ succeeded in \d+(\.\d)? m?s: redeploy web$/.test(l.msg),
  )
  assert.equal(starts.length, 2)
  assert.equal(ends.length, 2)
  assert.ok(ends.every((l) => typeof l.ms === 'number' && l.trigger === 'ci'))
  const access = info.filter((l) => l.msg === 'request')
  assert.deepEqual(
    access.filter((l) => l.method === 'GET'),
    [],
    'GET /api/v1/services and /healthz answered 2xx are debug',
  )
  assert.ok(
    access.some((l) => l.method === 'POST' && l.url === '/api/v1/services'),
    'changes through the API stay at info',
  )
  assert.equal(
    server.output().includes(new URL(hookUrl).pathname),
    false,
    'no line carries the trigger URL',
  )
})

test('DECKHAND_LOG_FORMAT=pretty prints one readable line per event, with its key fields', async (t) => {
  const server = await started(t, { DECKHAND_LOG_FORMAT: 'pretty' })
  const hookUrl = await serviceWithTrigger(server.url)
  assert.equal((await fetch(`${hookUrl}?wait=30s`, { method: 'POST', body: '{}' })).status, 200)
  await waitFor(() => /deployment \S+ succeeded in/.test(server.output()), {
    what: 'the deployment to end in the log',
  })
  const lines = server
    .output()
    .split('\n')
    .filter((line) => line.trim() !== '')
  assert.equal(lines.filter((line) => line.startsWith('{')).length, 0, 'no JSON line')
  const serving = lines.find((line) => line.includes('deckhand is serving'))
  assert.match(
    serving ?? '',
    /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: deckhand is serving \{.*"url":"http:\/\/127\.0\.0\.1:\d+"/,
  )
  assert.ok(
    lines.some((line) =>
      / INFO: call queued 202 to web \(trigger ci\) from generic → dpl_/.test(line),
    ),
    lines.join('\n'),
  )
})

test('an unknown DECKHAND_LOG_FORMAT is refused at start, naming the accepted values', async () => {
  const result = await runServe({ DECKHAND_LOG_FORMAT: 'xml', DECKHAND_LISTEN: '127.0.0.1:0' })
  assert.equal(result.code, 2)
  assert.match(result.stderr, /DECKHAND_LOG_FORMAT must be pretty or json; got "xml"/)
})

test('a port already in use stops the start with one sentence naming the address and DECKHAND_LISTEN, before anything is created', async (t) => {
  const holder = createServer()
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
  t.after(() => holder.close())
  const port = (holder.address() as { port: number }).port
  const dataDir = join(tempDir(t), 'data')
  const result = await runServe({
    DECKHAND_LISTEN: `127.0.0.1:${port}`,
    DECKHAND_DATA_DIR: dataDir,
  })
  assert.equal(result.code, 1)
  assert.equal(
    result.stderr,
    `deckhand: cannot listen on 127.0.0.1:${port}: another program already uses it; stop it, or set DECKHAND_LISTEN (or serve --listen) to another address\n`,
  )
  assert.equal(result.stdout, '', 'no admin token printed, no log line')
  assert.ok(!existsSync(dataDir) || readdirSync(dataDir).length === 0, 'no database was created')
})

async function runServe(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, 'serve'], {
    env: { ...process.env, DECKHAND_ADMIN_TOKEN: TOKEN, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  return { code, stdout, stderr }
}
