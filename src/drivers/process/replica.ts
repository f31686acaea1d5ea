/** One replica process: started detached with its output in a file, or adopted from its pid file. */
import { spawn } from 'node:child_process'
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'

import {
  hasLiveGroupMembers,
  isSameProcessAlive,
  killGroup,
  readProcStat,
} from './process-group.ts'

/** What a pid file holds: enough to find the replica again after Deckhand restarts. */
export interface PidRecord {
  pid: number
  /** /proc/<pid>/stat field 22, so a reused pid is not mistaken for the replica. */
  startTime: string
  index: number
  generation: number
  port: number | null
  startedAt: string
}

export interface ExitInfo {
  /** Null when unknown: an adopted replica is not our child, so its status cannot be read. */
  code: number | null
  signal: string | null
}

export interface SpawnReplicaOptions {
  dir: string
  index: number
  generation: number
  command: string
  cwd: string | undefined
  env: Record<string, string>
  port: number | undefined
}

// Leaves time for a group that got SIGKILL to be reaped before giving up on watching it.
const KILL_WAIT_MS = 2000
const GONE_POLL_MS = 50

export function replicaFileBase(index: number, generation: number): string {
  return `replica-${index}-g${generation}`
}

/** Every pid file in `dir`; unreadable ones are removed, since they cannot lead anywhere. */
export function readPidRecords(dir: string): PidRecord[] {
  const records: PidRecord[] = []
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return records
  }
  for (const name of names.filter((n) => n.endsWith('.pid'))) {
    try {
      records.push(JSON.parse(readFileSync(join(dir, name), 'utf8')) as PidRecord)
    } catch {
      rmSync(join(dir, name), { force: true })
    }
  }
  return records
}

export class Replica {
  readonly index: number
  readonly generation: number
  readonly pid: number
  readonly startTime: string
  readonly startedAtMs: number
  readonly port: number | undefined
  readonly logPath: string
  readonly pidPath: string
  /** Adopted replicas are not our children: their exit is noticed by polling. */
  readonly isAdopted: boolean
  #exitInfo: ExitInfo | undefined
  #exited: Promise<ExitInfo>
  #resolveExit: (info: ExitInfo) => void = () => {}
  #poll: NodeJS.Timeout | undefined

  private constructor(record: PidRecord, dir: string, isAdopted: boolean) {
    this.index = record.index
    this.generation = record.generation
    this.pid = record.pid
    this.startTime = record.startTime
    this.startedAtMs = Date.parse(record.startedAt)
    this.port = record.port ?? undefined
    const base = join(dir, replicaFileBase(record.index, record.generation))
    this.logPath = `${base}.log`
    this.pidPath = `${base}.pid`
    this.isAdopted = isAdopted
    this.#exited = new Promise((resolve) => {
      this.#resolveExit = resolve
    })
  }

  /** Starts a replica in its own process group, so it survives Deckhand and dies as one tree. */
  static spawn(options: SpawnReplicaOptions): Replica {
    if (options.cwd !== undefined && !isDirectory(options.cwd)) {
      throw new Error(`target.cwd ${options.cwd} is not a directory; create it or fix the target`)
    }
    const base = join(options.dir, replicaFileBase(options.index, options.generation))
    // A file, not a pipe: a pipe would break (SIGPIPE) when Deckhand exits.
    const fd = openSync(`${base}.log`, 'a', 0o600)
    let child
    try {
      child = spawn('/bin/sh', ['-c', options.command], {
        cwd: options.cwd,
        env: options.env,
        detached: true,
        stdio: ['ignore', fd, fd],
      })
    } finally {
      closeSync(fd)
    }
    child.unref()
    const pid = child.pid
    // The child is not reaped before the event loop turns, so its /proc entry is still there.
    const stat = pid === undefined ? undefined : readProcStat(pid)
    if (pid === undefined || stat === undefined) {
      throw new Error(`could not start /bin/sh for replica ${options.index}`)
    }
    const record: PidRecord = {
      pid,
      startTime: stat.startTime,
      index: options.index,
      generation: options.generation,
      port: options.port ?? null,
      startedAt: new Date().toISOString(),
    }
    const replica = new Replica(record, options.dir, false)
    child.once('exit', (code, signal) => replica.#markExited({ code, signal }))
    writeFileSync(`${base}.pid.tmp`, JSON.stringify(record), { mode: 0o600 })
    renameSync(`${base}.pid.tmp`, `${base}.pid`)
    return replica
  }

  /** Watches a replica a previous Deckhand started; undefined when it is gone or the pid was reused. */
  static adopt(record: PidRecord, dir: string, pollMs: number): Replica | undefined {
    if (!isSameProcessAlive(record.pid, record.startTime)) {
      return undefined
    }
    const replica = new Replica(record, dir, true)
    replica.#poll = setInterval(() => {
      if (!isSameProcessAlive(replica.pid, replica.startTime)) {
        replica.#markExited({ code: null, signal: null })
      }
    }, pollMs)
    replica.#poll.unref()
    return replica
  }

  get hasExited(): boolean {
    return this.#exitInfo !== undefined
  }

  get exitInfo(): ExitInfo | undefined {
    return this.#exitInfo
  }

  /** Resolves when the replica's main process exits. */
  exited(): Promise<ExitInfo> {
    return this.#exited
  }

  /** Stops polling an adopted replica; the process itself keeps running. */
  stopWatching(): void {
    clearInterval(this.#poll)
  }

  /** SIGTERM to the group, SIGKILL after `graceMs`; removes the pid file once the group is gone. */
  async stop(graceMs: number): Promise<void> {
    this.#refreshLiveness()
    if (!this.hasExited || hasLiveGroupMembers(this.pid)) {
      killGroup(this.pid, 'SIGTERM')
      if (!(await this.#waitGone(Date.now() + graceMs))) {
        killGroup(this.pid, 'SIGKILL')
        await this.#waitGone(Date.now() + KILL_WAIT_MS)
      }
    }
    this.stopWatching()
    rmSync(this.pidPath, { force: true })
  }

  /** Removes the pid file of a replica that exited on its own. */
  forget(): void {
    this.stopWatching()
    rmSync(this.pidPath, { force: true })
  }

  async #waitGone(deadline: number): Promise<boolean> {
    for (;;) {
      this.#refreshLiveness()
      if (this.hasExited && !hasLiveGroupMembers(this.pid)) {
        return true
      }
      if (Date.now() >= deadline) {
        return false
      }
      await delay(GONE_POLL_MS)
    }
  }

  #refreshLiveness(): void {
    if (this.isAdopted && !this.hasExited && !isSameProcessAlive(this.pid, this.startTime)) {
      this.#markExited({ code: null, signal: null })
    }
  }

  #markExited(info: ExitInfo): void {
    if (this.#exitInfo === undefined) {
      this.#exitInfo = info
      this.stopWatching()
      this.#resolveExit(info)
    }
  }
}

/** Says how a replica ended, for logs and errors. */
export function describeExit(info: ExitInfo | undefined): string {
  if (!info) {
    return 'is still running'
  }
  if (info.signal) {
    return `was killed by ${info.signal}`
  }
  return info.code === null ? 'exited' : `exited with code ${info.code}`
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory()
}
