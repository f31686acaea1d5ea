/** A deploy that did not work: thrown inside the docker and swarm drivers, returned as failed. */

/** Carries the person-readable reason; the drivers turn it into a failed outcome, never rethrow. */
export class DeployFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'DeployFailure'
  }
}
