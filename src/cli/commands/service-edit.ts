/**
 * `deckhand service set` and `service edit`: change a stored service as kubectl does, by
 * dotted `path=value` pairs or in $EDITOR, sent as one JSON merge patch (RFC 7396).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import type { Command } from 'commander'
import YAML from 'yaml'

import { clientFor, emit, encode, type GlobalFlags, withGlobalFlags } from '../command-kit.ts'
import { CliError, usageError } from '../exit-codes.ts'
import type { CliIo } from '../output.ts'
import type { ServiceRow } from './service.ts'

/** Spec fields `edit` shows; the rest (name, driver, times, status) cannot change. */
const EDITABLE = [
  'target',
  'image',
  'tag',
  'replicas',
  'scale',
  'tagPolicy',
  'deploy',
  'git',
  'env',
  'watch',
]
/** Path segments that would reach Object.prototype instead of a field. */
const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor'])
const MAX_PAIRS = 100

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** `3`, `true`, `null`, `{"a":1}` and `"quoted"` are JSON; anything else is the string as typed. */
function parseValue(text: string): Json {
  try {
    return JSON.parse(text) as Json
  } catch {
    return text
  }
}

/** `scale.max=8 target.cwd=/srv` → `{scale: {max: 8}, target: {cwd: '/srv'}}`. */
export function patchFromPairs(pairs: string[]): JsonObject {
  if (pairs.length > MAX_PAIRS) {
    throw usageError(`at most ${MAX_PAIRS} path=value pairs at once`)
  }
  const patch: JsonObject = {}
  for (const pair of pairs) {
    const equals = pair.indexOf('=')
    const path = equals > 0 ? pair.slice(0, equals).split('.') : []
    if (path.length === 0 || path.some((part) => part === '' || FORBIDDEN.has(part))) {
      throw usageError(
        `"${pair}" is not path=value; write e.g. scale.max=8 or target.command='node app.js'`,
      )
    }
    let place = patch
    for (const part of path.slice(0, -1)) {
      const next = place[part]
      if (next !== undefined && !isObject(next)) {
        throw usageError(
          `"${pair}" sets a field inside ${part}, which an earlier pair set to a value`,
        )
      }
      place = (place[part] ??= {}) as JsonObject
    }
    place[path.at(-1)!] = parseValue(pair.slice(equals + 1))
  }
  return patch
}

/** The merge patch that turns `before` into `after`: changed fields, and null for removed ones. */
export function mergePatchBetween(before: JsonObject, after: JsonObject): JsonObject {
  const patch: JsonObject = {}
  for (const key of Object.keys(before)) {
    if (!(key in after)) {
      patch[key] = null
    }
  }
  for (const [key, value] of Object.entries(after)) {
    const old = before[key]
    if (isObject(old) && isObject(value)) {
      const inner = mergePatchBetween(old, value)
      if (Object.keys(inner).length > 0) {
        patch[key] = inner
      }
    } else if (JSON.stringify(old) !== JSON.stringify(value)) {
      patch[key] = value
    }
  }
  return patch
}

function editableOf(service: ServiceRow): JsonObject {
  return Object.fromEntries(
    EDITABLE.filter((key) => service[key] !== undefined).map((key) => [key, service[key] as Json]),
  )
}

/** Runs $VISUAL or $EDITOR (default vi) on the file, through the shell so `code --wait` works. */
function runEditor(io: CliIo, file: string): void {
  const editor = io.env.VISUAL || io.env.EDITOR || 'vi'
  const run = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'editor', file], {
    stdio: 'inherit',
    env: io.env,
  })
  if (run.error || run.status !== 0) {
    const how = run.status ?? run.error?.message
    throw new CliError(`the editor (${editor}) exited ${how}; nothing was changed`)
  }
}

const HEADER = [
  '# Edit the service and save; an unchanged file changes nothing.',
  '# Lines starting with # are ignored. Name and driver cannot change here.',
]

export function registerServiceEditCommands(service: Command, io: CliIo): void {
  withGlobalFlags(
    service
      .command('set')
      .argument('<name>')
      .argument('<path=value...>', 'dotted field paths, e.g. scale.max=8 target.cwd=/srv')
      .description(
        'change fields of a service: values are JSON if they parse, else text; null removes',
      ),
  ).action(async (name: string, pairs: string[], flags: GlobalFlags) => {
    const patch = patchFromPairs(pairs)
    const path = `/api/v1/services/${encode(name)}`
    const client = clientFor(flags, io)
    const saved = await client.request<ServiceRow>(path, { method: 'PATCH', body: patch })
    const fields = pairs.map((pair) => pair.slice(0, pair.indexOf('='))).join(', ')
    emit(io, flags, saved, (s) => `updated service ${s.name}: ${fields}\n`)
  })

  withGlobalFlags(
    service
      .command('edit')
      .argument('<name>')
      .description('edit a service as YAML in $VISUAL or $EDITOR (default vi), then save it'),
  ).action(async (name: string, flags: GlobalFlags) => {
    const client = clientFor(flags, io)
    const path = `/api/v1/services/${encode(name)}`
    const before = editableOf(await client.request<ServiceRow>(path))
    const dir = mkdtempSync(join(tmpdir(), 'deckhand-edit-'))
    const file = join(dir, `${name}.yaml`)
    const original = `${HEADER.join('\n')}\n${YAML.stringify(before)}`
    writeFileSync(file, original, { mode: 0o600 })
    try {
      runEditor(io, file)
      const text = readFileSync(file, 'utf8')
      let after: unknown
      try {
        after = YAML.parse(text)
      } catch (error) {
        const first = (error as Error).message.split('\n')[0]
        throw new CliError(`the edited file is not YAML (${first}); nothing was changed`)
      }
      if (!isObject(after)) {
        throw new CliError('the edited file must be a mapping of fields; nothing was changed')
      }
      const patch = mergePatchBetween(before, after)
      if (Object.keys(patch).length === 0) {
        emit(io, flags, { name, changed: false }, () => `service ${name}: no changes\n`)
        return
      }
      const saved = await client.request<ServiceRow>(path, { method: 'PATCH', body: patch })
      emit(io, flags, saved, (s) => `updated service ${s.name}: ${Object.keys(patch).join(', ')}\n`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
}
