/**
 * The CLI's config file of contexts (kubectl's habit): a server URL and an admin token per
 * name, and which one is current. It holds tokens, so it is written 0600 in a 0700 folder.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, isAbsolute, join } from 'node:path'

import { isMap, isSeq, LineCounter, parseDocument, stringify } from 'yaml'

import { CliError } from './exit-codes.ts'

export interface CliContext {
  name: string
  url: string
  token?: string
}

export interface ContextFile {
  currentContext?: string
  contexts: CliContext[]
}

/** `$XDG_CONFIG_HOME/deckhand/config.yaml`, else `~/.config/deckhand/config.yaml` (XDG Base Directory spec). */
export function contextFilePath(env: Record<string, string | undefined>): string {
  // The spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
  const xdg = env.XDG_CONFIG_HOME
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME ?? '.', '.config')
  return join(base, 'deckhand', 'config.yaml')
}

/** The file's contexts; a missing file is none. A malformed one is an error naming file, line and field. */
export function readContextFile(path: string): ContextFile {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { contexts: [] }
    }
    throw new CliError(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    )
  }
  const lines = new LineCounter()
  const document = parseDocument(text, { lineCounter: lines })
  const wrong = (what: string, offset = 0): CliError =>
    new CliError(
      `${path}:${lines.linePos(offset).line}: ${what}; fix or delete the file (\`deckhand context set\` rewrites it)`,
    )
  if (document.errors.length > 0) {
    const first = document.errors[0]!
    throw wrong(`not valid YAML (${first.message.split('\n')[0]})`, first.pos[0])
  }
  if (document.contents === null) {
    return { contexts: [] }
  }
  if (!isMap(document.contents)) {
    throw wrong('expected a mapping with current-context and contexts')
  }
  const current = document.get('current-context')
  if (current !== undefined && current !== null && typeof current !== 'string') {
    throw wrong('current-context must be a context name')
  }
  const list = document.get('contexts', true)
  if (list !== undefined && list !== null && !isSeq(list)) {
    throw wrong('contexts must be a list of {name, url, token}')
  }
  const contexts: CliContext[] = []
  for (const [index, item] of (list?.items ?? []).entries()) {
    const offset = (item as { range?: [number] }).range?.[0] ?? 0
    const value = (item as { toJSON?: () => unknown }).toJSON?.() as
      Record<string, unknown> | undefined
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      throw wrong(`contexts[${index}] must be a mapping with name, url and token`, offset)
    }
    for (const field of ['name', 'url'] as const) {
      if (typeof value[field] !== 'string' || value[field] === '') {
        throw wrong(`contexts[${index}].${field} must be a non-empty string`, offset)
      }
    }
    if (value.token !== undefined && typeof value.token !== 'string') {
      throw wrong(`contexts[${index}].token must be a string`, offset)
    }
    contexts.push({
      name: value.name as string,
      url: value.url as string,
      ...(typeof value.token === 'string' && value.token !== '' ? { token: value.token } : {}),
    })
  }
  return { ...(typeof current === 'string' ? { currentContext: current } : {}), contexts }
}

/** Writes the whole file, mode 0600, through a rename so a crash never leaves half a file. */
export function writeContextFile(path: string, file: ContextFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const text =
    '# deckhand CLI contexts (`deckhand context ls`). It holds admin tokens: keep it private (mode 0600).\n' +
    stringify({
      ...(file.currentContext !== undefined ? { 'current-context': file.currentContext } : {}),
      contexts: file.contexts,
    })
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, text, { mode: 0o600 })
  // The mode given to writeFileSync is filtered by the umask; say it again to be sure.
  chmodSync(temporary, 0o600)
  renameSync(temporary, path)
}

/** The named context, or an error listing the names there are. */
export function findContext(file: ContextFile, name: string, path: string): CliContext {
  const found = file.contexts.find((context) => context.name === name)
  if (!found) {
    const names = file.contexts.map((context) => context.name)
    throw new CliError(
      `no context named "${name}" in ${path}; ` +
        (names.length
          ? `there are: ${names.join(', ')}`
          : 'add one with `deckhand context set <name> --url <url> --token <token>`'),
    )
  }
  return found
}
