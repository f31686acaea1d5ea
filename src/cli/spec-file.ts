/** Reads a spec given with `-f`: JSON or YAML (YAML is a superset of JSON), one object. */
import { readFile } from 'node:fs/promises'

import { parse } from 'yaml'

import { CliError, usageError } from './exit-codes.ts'

export async function readSpecFile(path: string): Promise<Record<string, unknown>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new CliError(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    )
  }
  let value: unknown
  try {
    value = parse(text)
  } catch (error) {
    throw usageError(
      `${path} is not valid JSON or YAML: ${(error as Error).message.split('\n')[0]}`,
    )
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw usageError(`${path} must hold one object (the fields of PRODUCT.md section 5a)`)
  }
  return value as Record<string, unknown>
}

/** `--target '{"container":"web"}'` → the object; anything else is a usage error. */
export function parseJsonObject(flag: string, text: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw usageError(`${flag} must be a JSON object, e.g. ${flag} '{"container":"web"}'`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw usageError(`${flag} must be a JSON object, e.g. ${flag} '{"container":"web"}'`)
  }
  return value as Record<string, unknown>
}
