/** A private Docker engine for one test file: started, seeded with a busybox image, torn down. */
import type { ChildProcess } from 'node:child_process'
import { execFile, execFileSync, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { after } from 'node:test'

import { isRequired } from './required-parts.ts'
import { waitFor } from './wait-for.ts'

/** Milliseconds the last engine start took, for measuring (DECKHAND_TEST_VERBOSE prints it). */
export const timings = { answeredMs: 0, readyMs: 0 }

/** Label every test object carries, so cleanup removes exactly what this run made. */
export const RUN_LABEL = 'dev.deckhand.test-run'

/** The busybox image every test image is built FROM. */
export const BASE_IMAGE = 'deckhand-test/busybox:base'

/** Set to a unix socket path (or unix:// URL) to reuse a running engine instead of starting one. */
export const REUSE_ENV = 'DECKHAND_TEST_DOCKERD'

export interface PrivateDockerd {
  /** The engine's unix socket path, for `new DockerDriver({ socketPath })`. */
  socketPath: string
  /** Unique per test file; every container, service, volume and image is labelled with it. */
  runId: string
  /**
   * A process inside the engine's own network namespace (it has only loopback), for
   * `nsenter --net=/proc/<pid>/ns/net`; null for a reused engine, which shares the host's.
   */
  netnsPid: number | null
  /** `{ [RUN_LABEL]: runId }`, for objects a test creates through the API. */
  labels: Record<string, string>
  /** Runs the docker CLI against this engine and resolves with its trimmed stdout. */
  docker(args: string[], input?: string): Promise<string>
  /** `docker run -d` with the run label added; resolves with the container id. */
  run(args: string[]): Promise<string>
  /** Builds `name` from a Dockerfile text with no context (FROM BASE_IMAGE). */
  buildImage(name: string, dockerfile: string): Promise<void>
  /** Makes the engine a single-node Swarm manager on 127.0.0.1 (idempotent). */
  initSwarm(): Promise<void>
  /** Removes every service, container and volume labelled with the run id. */
  cleanup(): Promise<void>
}

export interface DockerdHandle {
  /** The engine, or null when it could not start (the reason is in skipReason). */
  engine: PrivateDockerd | null
  skipReason: string | null
  /** The engine for this test, or undefined after skipping it loudly; throws when required. */
  use(t: TestContext): PrivateDockerd | undefined
}

/** True when DECKHAND_TEST_REQUIRE names `docker`: a missing engine then fails instead of skips. */
export const isDockerRequired = (): boolean => isRequired('docker')

/** Why a private engine cannot be started on this machine, or null when it can. */
export function dockerUnavailableReason(): string | null {
  if (process.env[REUSE_ENV]) {
    return null
  }
  if (process.platform !== 'linux') {
    return `a private dockerd needs Linux, this is ${process.platform}`
  }
  if (process.getuid?.() !== 0) {
    return 'a private dockerd needs root (it mounts overlays and creates a network namespace)'
  }
  for (const tool of ['dockerd', 'docker', 'unshare', 'tar']) {
    if (!findOnPath(tool)) {
      return `${tool} is not on PATH; install docker.io (apt-get install -y docker.io busybox-static)`
    }
  }
  if (!busyboxPath()) {
    return 'no static busybox for the base image; install busybox-static'
  }
  return null
}

/**
 * Starts (or reuses) an engine for this test file and stops it after the file's tests.
 * Never throws for a missing engine unless DECKHAND_TEST_REQUIRE includes docker.
 */
export async function privateDockerd(options: { swarm?: boolean } = {}): Promise<DockerdHandle> {
  let engine: PrivateDockerd | null = null
  let skipReason = dockerUnavailableReason()
  if (skipReason === null) {
    try {
      const started = Date.now()
      engine = await startEngine()
      if (options.swarm) {
        await engine.initSwarm()
      }
      timings.readyMs = Date.now() - started
      if (process.env.DECKHAND_TEST_VERBOSE) {
        process.stderr.write(
          `private dockerd ready (base image imported) in ${timings.readyMs} ms\n`,
        )
      }
    } catch (error) {
      skipReason = `the private dockerd did not start: ${(error as Error).message}`
      engine = null
    }
  }
  if (skipReason !== null) {
    const message = `docker tests: ${skipReason}`
    if (isDockerRequired()) {
      throw new Error(`${message} (DECKHAND_TEST_REQUIRE includes docker, so this fails)`)
    }
    process.stderr.write(`\n!!! SKIPPING ${message}\n\n`)
  }
  return {
    engine,
    skipReason,
    use(t) {
      if (engine) {
        return engine
      }
      if (isDockerRequired()) {
        throw new Error(`docker is required but unavailable: ${skipReason}`)
      }
      process.stderr.write(`!!! SKIPPING "${t.name}": ${skipReason}\n`)
      t.skip(`docker unavailable: ${skipReason}`)
      return undefined
    },
  }
}

function findOnPath(tool: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    if (dir && existsSync(join(dir, tool))) {
      return join(dir, tool)
    }
  }
  return null
}

function busyboxPath(): string | null {
  return ['/bin/busybox', '/usr/bin/busybox'].find((path) => existsSync(path)) ?? null
}

function execText(file: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`${file} ${args.join(' ')} failed: ${stderr.trim() || error.message}`))
      } else {
        resolve(stdout.trim())
      }
    })
    // The CLI may exit before it reads stdin (an error, or a command that takes none); the
    // resulting EPIPE is not the command's failure, which the callback reports.
    child.stdin?.on('error', () => undefined)
    if (input === undefined) {
      child.stdin?.end()
    } else {
      child.stdin?.end(input)
    }
  })
}

async function startEngine(): Promise<PrivateDockerd> {
  const { engine, stop } = await startPrivateDockerd()
  // Registered only once the engine works, so a skipped file has nothing to clean up.
  after(async () => {
    try {
      await engine.cleanup()
    } finally {
      await stop()
    }
  })
  return engine
}

/**
 * Starts (or reuses) an engine outside any test file's hooks, for the benchmark: the caller
 * stops it. Throws when it cannot start; dockerUnavailableReason says why beforehand.
 */
export async function startPrivateDockerd(): Promise<{
  engine: PrivateDockerd
  stop: () => Promise<void>
}> {
  const runId = `dh${process.pid.toString(36)}${Math.random().toString(36).slice(2, 8)}`
  const reused = process.env[REUSE_ENV]
  let socketPath: string
  let stop: () => Promise<void> = async () => {}
  let netnsPid: number | null = null
  if (reused) {
    socketPath = reused.replace(/^unix:\/\//, '')
  } else {
    // A short directory: the socket path must stay under the 108-byte sun_path limit.
    const dir = await mkdtemp(join(tmpdir(), 'dhd-'))
    socketPath = join(dir, 'docker.sock')
    const started = Date.now()
    const child = spawnDockerd(dir, socketPath)
    // unshare execs sh, which execs dockerd: the child's pid stays in the new namespace.
    netnsPid = child.pid ?? null
    stop = makeStop(child, dir)
    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null) {
            throw new Error(`dockerd exited with ${child.exitCode}: ${tailLog(child)}`)
          }
          await execText('docker', [
            '-H',
            `unix://${socketPath}`,
            'version',
            '-f',
            '{{.Server.Version}}',
          ])
          return true
        },
        { timeoutMs: 20_000, intervalMs: 20, what: 'the private dockerd to answer' },
      )
    } catch (error) {
      await stop()
      throw new Error(`${(error as Error).message}; log: ${tailLog(child)}`, {
        cause: error,
      })
    }
    if (process.env.DECKHAND_TEST_VERBOSE) {
      process.stderr.write(`private dockerd answered after ${Date.now() - started} ms\n`)
    }
    timings.answeredMs = Date.now() - started
  }
  const docker = (args: string[], input?: string): Promise<string> =>
    execText('docker', ['-H', `unix://${socketPath}`, ...args], input)
  const labels = { [RUN_LABEL]: runId }
  const engine: PrivateDockerd = {
    socketPath,
    runId,
    netnsPid,
    labels,
    docker,
    run: (args) => docker(['run', '-d', '--label', `${RUN_LABEL}=${runId}`, ...args]),
    async buildImage(name, dockerfile) {
      // The classic builder: BuildKit is not in Debian's docker.io and needs no network here.
      await docker(['build', '-q', '--label', `${RUN_LABEL}=${runId}`, '-t', name, '-'], dockerfile)
    },
    async initSwarm() {
      const state = await docker(['info', '-f', '{{.Swarm.LocalNodeState}}'])
      if (state === 'active') {
        return
      }
      // 198.18.0.0/15 is the benchmarking range: the ingress overlay Swarm makes takes
      // 198.18.0.0/24, never a private 10.x subnet, and it lives in the engine's own netns.
      await docker([
        'swarm',
        'init',
        '--advertise-addr',
        '127.0.0.1',
        '--default-addr-pool',
        '198.18.0.0/16',
      ])
    },
    async cleanup() {
      const filter = `label=${RUN_LABEL}=${runId}`
      const isSwarm = (await docker(['info', '-f', '{{.Swarm.LocalNodeState}}'])) === 'active'
      if (isSwarm) {
        const services = (await docker(['service', 'ls', '-q', '--filter', filter])).split('\n')
        if (services[0]) {
          await docker(['service', 'rm', ...services.filter(Boolean)])
        }
      }
      // Swarm task containers carry the label too; removing them by force skips their grace.
      const containers = (await docker(['ps', '-aq', '--filter', filter]))
        .split('\n')
        .filter(Boolean)
      if (containers.length > 0) {
        await docker(['rm', '-f', '-v', ...containers]).catch(() => undefined)
      }
      const volumes = (await docker(['volume', 'ls', '-q', '--filter', filter])).split('\n')
      if (volumes[0]) {
        await docker(['volume', 'rm', '-f', ...volumes.filter(Boolean)]).catch(() => undefined)
      }
    },
  }
  try {
    await importBaseImage(engine)
  } catch (error) {
    await stop()
    throw error
  }
  return { engine, stop }
}

/*
 * What works on the Debian 12 CI machine (measured 2026-11, 2 CPUs):
 * - packages: `apt-get install -y docker.io busybox-static` (dockerd 20.10.24, API 1.41,
 *   containerd 1.6.20, runc 1.1.5); the docker CLI 28.2 already there talks to it fine.
 * - flags below; --ip6tables=false is accepted. cgroup v1, overlay2 on ext4.
 * - dockerd answers after ~150-250 ms; `swarm init` adds ~800 ms; importing the busybox base
 *   ~100 ms; a classic-builder `docker build` of a one-layer image ~200 ms.
 * - `swarm init` makes docker_gwbridge (and the ingress overlay) whatever --bridge says; on the
 *   host netns that bridge took 172.17.0.1/16, hence the private netns and the 198.18 pools.
 * - Swarm tasks run with `--network host`; a stop of a task whose container traps TERM is
 *   reported as shutdown ~2-3 s later.
 */
function spawnDockerd(dir: string, socketPath: string): ChildProcess {
  const flags = [
    `--host=unix://${socketPath}`,
    `--data-root=${join(dir, 'data')}`,
    `--exec-root=${join(dir, 'exec')}`,
    `--pidfile=${join(dir, 'docker.pid')}`,
    '--bridge=none',
    '--iptables=false',
    '--ip6tables=false',
    '--ip-masq=false',
    // Any network the engine makes (Swarm's docker_gwbridge) takes this range, never 172.x.
    '--default-address-pool=base=198.18.0.0/16,size=24',
  ]
  // A network namespace of its own with only loopback: host-networked containers and Swarm's
  // bridge stay off the machine's interfaces, and a pull cannot reach any network at all.
  const script = `ip link set lo up 2>/dev/null || busybox ip link set lo up; exec dockerd ${flags
    .map((flag) => `'${flag}'`)
    .join(' ')}`
  const child = spawn('unshare', ['--net', '--', 'sh', '-c', script], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  // The last 64 KiB of dockerd's log, for the message when it does not come up.
  const log: Buffer[] = []
  child.stderr?.on('data', (chunk: Buffer) => {
    log.push(chunk)
    while (log.length > 1 && log.reduce((size, item) => size + item.length, 0) > 65_536) {
      log.shift()
    }
  })
  logs.set(child, log)
  const killOnExit = (): void => {
    if (child.exitCode === null) {
      child.kill('SIGKILL')
      unmountUnder(dir)
    }
  }
  process.on('exit', killOnExit)
  child.once('exit', () => process.off('exit', killOnExit))
  return child
}

const logs = new WeakMap<ChildProcess, Buffer[]>()

function tailLog(child: ChildProcess): string {
  const text = Buffer.concat(logs.get(child) ?? []).toString('utf8')
  return text.trim().split('\n').slice(-5).join(' | ')
}

function makeStop(child: ChildProcess, dir: string): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(timer)
    }
    unmountUnder(dir)
    await rm(dir, { recursive: true, force: true }).catch(() => undefined)
  }
}

// dockerd leaves its netns bind mount (and, after a kill, overlays) behind; rm -rf needs them gone.
function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point.startsWith(`${dir}/`))
    .reverse()
  for (const point of mounts) {
    try {
      execFileSync('umount', ['-l', point], { stdio: 'ignore' })
    } catch {
      // Already gone with its parent; nothing to do.
    }
  }
}

let baseTar: Promise<string> | undefined

// One tarball per test process: /bin/busybox plus a symlink per applet, and a passwd file.
function makeBaseTar(): Promise<string> {
  baseTar ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dhbase-'))
    const root = join(dir, 'root')
    await mkdir(join(root, 'bin'), { recursive: true })
    await mkdir(join(root, 'etc'))
    await mkdir(join(root, 'tmp'))
    await copyFile(busyboxPath()!, join(root, 'bin', 'busybox'))
    const applets = (await execText(busyboxPath()!, ['--list'])).split('\n').filter(Boolean)
    for (const applet of applets) {
      if (applet !== 'busybox') {
        await symlink('busybox', join(root, 'bin', applet))
      }
    }
    await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n')
    await writeFile(join(root, 'etc', 'group'), 'root:x:0:\n')
    const tar = join(dir, 'base.tar')
    await execText('tar', ['-C', root, '-cf', tar, '.'])
    await rm(root, { recursive: true, force: true })
    return tar
  })()
  return baseTar
}

async function importBaseImage(engine: PrivateDockerd): Promise<void> {
  const present = await engine.docker(['images', '-q', BASE_IMAGE])
  if (present) {
    return
  }
  const tar = await makeBaseTar()
  await engine.docker(['import', tar, BASE_IMAGE])
  await rm(join(tar, '..'), { recursive: true, force: true })
  baseTar = undefined
}
