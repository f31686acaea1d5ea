/**
 * Preloaded by bin/deckhand (--import): Node keeps each module's compiled code, and the
 * JavaScript it stripped from the TypeScript, under node_modules/.cache/deckhand. Later starts
 * then never load the type stripper, which held about 20 MB of resident memory for the life of
 * the process, and start faster. A cache that cannot be written is skipped by Node, silently.
 */
import { enableCompileCache } from 'node:module'
import { join } from 'node:path'

enableCompileCache(join(import.meta.dirname, '..', 'node_modules', '.cache', 'deckhand'))
