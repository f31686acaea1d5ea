/**
 * Runs a fast-check property and fails with a short report: the seed, the shrunk
 * counterexample cut to a readable length, and the assertion that failed. fc.assert would
 * print megabytes when a counterexample holds a 1 MiB body.
 */
import fc from 'fast-check'

export async function checkProperty<Ts>(
  property: fc.IAsyncProperty<Ts> | fc.IProperty<Ts>,
  options: fc.Parameters<Ts> = {},
): Promise<void> {
  const details = await fc.check(property as fc.IAsyncProperty<Ts>, {
    endOnFailure: true,
    ...options,
  })
  if (!details.failed) {
    return
  }
  const example = fc.stringify(details.counterexample)
  const cut =
    example.length > 2000 ? `${example.slice(0, 2000)}… (${example.length} characters)` : example
  const error = details.errorInstance as Error | undefined
  throw new Error(
    `property failed after ${details.numRuns} runs (seed ${details.seed}, path ${details.counterexamplePath}): ${error?.message ?? 'no error recorded'}\ncounterexample: ${cut}`,
    { cause: error },
  )
}
