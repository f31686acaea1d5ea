/** A deploy that did not work, thrown inside a driver; GuardedDriver records it as failed. */

/** Carries the person-readable reason, recorded as it is (describeFailure is not asked). */
export class DeployFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'DeployFailure'
  }
}
