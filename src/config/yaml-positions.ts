/** Finds the line of a field in a parsed YAML document, so config errors can say file:line. */
import { type Document, isMap, isPair, isScalar, isSeq, type LineCounter, type Node } from 'yaml'

import type { FieldPath } from '../specs/problems.ts'

/**
 * The 1-based line of the deepest part of `path` present in the document: the key's line for a
 * map field, the item's line for a list entry. A missing field points at its parent, which is
 * where the person has to add it.
 */
export function lineOf(doc: Document, lines: LineCounter, path: FieldPath): number {
  let node: unknown = doc.contents
  let offset = rangeStart(node) ?? 0
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(part),
      )
      if (!pair) {
        break
      }
      offset = rangeStart(pair.key) ?? offset
      node = pair.value
    } else if (isSeq(node) && typeof part === 'number') {
      const item = node.items[part]
      if (item === undefined) {
        break
      }
      offset = rangeStart(item) ?? offset
      node = item
    } else {
      break
    }
  }
  return lines.linePos(offset).line
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range
  return Array.isArray(range) ? range[0] : undefined
}
