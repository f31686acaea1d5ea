/**
 * peer: the same load as `accept` against adnanh/webhook (Debian package `webhook`) serving one
 * hook that runs /bin/true, and against the ceiling, a bare node:http server that reads the
 * body and answers 202.
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

import {
  ensureTool,
  freePort,
  type LoadResult,
  removeDir,
  runWrk,
  type Settings,
  startChild,
  tempDir,
  withCpu,
} from './lib.ts'

export async function benchWebhook(
  settings: Settings,
): Promise<LoadResult & { version: string; serverCpuUsPerCall: number }> {
  const binary = ensureTool('webhook', 'webhook')
  const dir = tempDir('webhook')
  const hooks = join(dir, 'hooks.json')
  writeFileSync(
    hooks,
    JSON.stringify([
      {
        id: 'bench',
        'execute-command': '/bin/true',
        'response-message': 'queued',
        'success-http-response-code': 202,
      },
    ]),
  )
  const port = await freePort()
  const server = await startChild(
    'webhook',
    binary,
    ['-hooks', hooks, '-ip', '127.0.0.1', '-port', String(port)],
    {
      port,
      probe: '/',
      logFile: join(dir, 'webhook.log'),
    },
  )
  try {
    const url = `${server.url}/hooks/bench`
    await runWrk(url, { connections: settings.connections, seconds: settings.warmupSeconds })
    // webhook's own CPU only: the /bin/true it starts per call is its children's.
    const load = await withCpu(server.pid, () =>
      runWrk(url, { connections: settings.connections, seconds: settings.seconds }),
    )
    return { ...load, version: webhookVersion(binary) }
  } finally {
    await server.stop()
    removeDir(dir)
  }
}

function webhookVersion(binary: string): string {
  try {
    return execFileSync(binary, ['-version'], { encoding: 'utf8' }).trim()
  } catch {
    return 'unknown'
  }
}

export async function benchCeiling(
  settings: Settings,
): Promise<LoadResult & { serverCpuUsPerCall: number }> {
  const dir = tempDir('ceiling')
  const port = await freePort()
  const server = await startChild(
    'node:http ceiling',
    process.execPath,
    [join(import.meta.dirname, 'ceiling-server.ts'), String(port)],
    {
      port,
      probe: '/',
      logFile: join(dir, 'ceiling.log'),
    },
  )
  try {
    const url = `${server.url}/hooks/ceiling`
    await runWrk(url, { connections: settings.connections, seconds: settings.warmupSeconds })
    return await withCpu(server.pid, () =>
      runWrk(url, { connections: settings.connections, seconds: settings.seconds }),
    )
  } finally {
    await server.stop()
    removeDir(dir)
  }
}

/** The durable ceiling (durable-ceiling-server.ts): 202 only after an fdatasync of the body. */
export async function benchDurableCeiling(
  settings: Settings,
): Promise<LoadResult & { serverCpuUsPerCall: number }> {
  const dir = tempDir('durable')
  const port = await freePort()
  const script = join(import.meta.dirname, 'durable-ceiling-server.ts')
  const server = await startChild(
    'durable ceiling',
    process.execPath,
    [script, String(port), join(dir, 'calls.log')],
    { port, probe: '/', logFile: join(dir, 'durable.log') },
  )
  try {
    const url = `${server.url}/hooks/durable`
    await runWrk(url, { connections: settings.connections, seconds: settings.warmupSeconds })
    return await withCpu(server.pid, () =>
      runWrk(url, { connections: settings.connections, seconds: settings.seconds }),
    )
  } finally {
    await server.stop()
    removeDir(dir)
  }
}
