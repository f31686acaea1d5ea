/** The Docker engine both the docker and swarm drivers talk to: socket, client, ping, failures. */
import { DeckhandError } from '../../errors.ts'
import type { RegistryCredentials } from '../../registry/registry-credentials.ts'
import { DeployFailure } from '../deploy-failure.ts'
import type { DockerClient } from './docker-client.ts'
import { connectDocker, engineMessage, isUnreachable, resolveSocketPath } from './docker-client.ts'

export interface DockerEngineOptions {
  /** The engine's unix socket; default DOCKER_HOST (unix://…), else /var/run/docker.sock. */
  socketPath?: string
  /** A client to use instead of dockerode on the socket (tests wrap the real one to observe). */
  client?: DockerClient
  /** Where pulls and Swarm updates find private registries' credentials; none when absent. */
  credentials?: RegistryCredentials
}

export class DockerEngine {
  /** The client every engine call goes through. */
  readonly client: DockerClient
  /** The engine's socket as `unix://…`, for messages and /readyz. */
  readonly endpoint: string
  /** Registry credentials for pulls and service updates, when the server configured them. */
  readonly credentials: RegistryCredentials | undefined

  constructor(options: DockerEngineOptions) {
    this.credentials = options.credentials
    const socketPath = resolveSocketPath(options.socketPath)
    this.endpoint = `unix://${socketPath}`
    this.client = options.client ?? connectDocker(socketPath)
  }

  /** Resolves when the engine answers; otherwise throws DH_ERR_DRIVER_UNAVAILABLE. */
  async ping(): Promise<void> {
    try {
      await this.client.ping()
    } catch (error) {
      throw (
        this.unreachable(error) ??
        new DeckhandError(
          'DH_ERR_DRIVER_UNAVAILABLE',
          `the Docker engine at ${this.endpoint} answered ping with an error: ${engineMessage(error)}`,
          { cause: error },
        )
      )
    }
  }

  /** DH_ERR_DRIVER_UNAVAILABLE when `error` means the socket could not be reached, else null. */
  unreachable(error: unknown): DeckhandError | null {
    if (!isUnreachable(error)) {
      return null
    }
    const code = (error as { code?: string }).code
    return new DeckhandError(
      'DH_ERR_DRIVER_UNAVAILABLE',
      `the Docker engine at ${this.endpoint} cannot be reached (${code}); check that dockerd runs and that DOCKER_HOST or the socketPath option names its socket`,
      { cause: error },
    )
  }

  /** The reason a failed deployment records for what a deploy threw. */
  failureMessage(error: unknown): string {
    // Our own failures are already worded for the reader; only a raw engine error gets a prefix.
    if (error instanceof DeployFailure || error instanceof DeckhandError) {
      return error.message
    }
    return (
      this.unreachable(error)?.message ??
      `the Docker engine at ${this.endpoint} refused a request: ${engineMessage(error)}`
    )
  }
}
