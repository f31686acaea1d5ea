/**
 * Which real parts a run must have. DECKHAND_TEST_REQUIRE (comma list: docker, postgres,
 * browser, mount) turns a loud skip for a missing part into a failure, so CI cannot pass
 * without having run those tests; on a laptop without them they skip and say why.
 */
import type { TestContext } from 'node:test'

export function isRequired(part: string): boolean {
  return (process.env.DECKHAND_TEST_REQUIRE ?? '')
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .includes(part)
}

/** Skips the test out loud, or fails it when the run requires `part`. */
export function skipOrFail(t: TestContext, part: string, reason: string): void {
  if (isRequired(part)) {
    throw new Error(`DECKHAND_TEST_REQUIRE includes ${part}, but ${reason}`)
  }
  process.stderr.write(`\n!!! SKIPPING ${t.name}: ${reason} !!!\n\n`)
  t.skip(reason)
}
