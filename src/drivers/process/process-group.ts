/** Process groups and /proc: signalling a replica's whole tree and telling a live pid from a reused one. */
import { readdirSync, readFileSync } from 'node:fs'

/** The fields of /proc/<pid>/stat that supervision needs. */
export interface ProcStat {
  /** One letter; `Z` (zombie) and `X` (dead) count as gone. */
  state: string
  /** Process group id. */
  pgrp: number
  /** Field 22, clock ticks since boot: with the pid it names one process for good. */
  startTime: string
}

/** Reads /proc/<pid>/stat; undefined when the process does not exist. */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const state = fields[0]
  const pgrp = Number(fields[2])
  const startTime = fields[19]
  if (state === undefined || startTime === undefined) {
    return undefined
  }
  return { state, pgrp, startTime }
}

/** True when `pid` runs and is the process that started at `startTime` (not a reused pid). */
export function isSameProcessAlive(pid: number, startTime: string): boolean {
  const stat = readProcStat(pid)
  return stat !== undefined && stat.startTime === startTime && !isGone(stat.state)
}

/** True when any live (non-zombie) process is still in process group `pgid`. */
export function hasLiveGroupMembers(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid)) {
      continue
    }
    const stat = readProcStat(pid)
    if (stat && stat.pgrp === pgid && !isGone(stat.state)) {
      return true
    }
  }
  return false
}

/** Signals every process in group `pgid`; a group that is already gone is not an error. */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') {
      throw error
    }
  }
}

function isGone(state: string): boolean {
  return state === 'Z' || state === 'X' || state === 'x'
}
