/** The subset of the Docker Engine API (through dockerode) the docker and swarm drivers call. */
import Docker from 'dockerode'

import type { RegistryAuth } from '../../registry/registry-credentials.ts'

/** Engine health check settings, as the API spells them (durations in nanoseconds). */
export interface HealthConfig {
  Test?: string[]
  Interval?: number
  Timeout?: number
  Retries?: number
  StartPeriod?: number
}

/** The parts of a container's or image's Config that recreating a container copies. */
export interface ContainerConfig {
  Hostname?: string
  Domainname?: string
  User?: string
  Env?: string[] | null
  Cmd?: string[] | null
  Entrypoint?: string | string[] | null
  Image?: string
  Labels?: Record<string, string> | null
  WorkingDir?: string
  Healthcheck?: HealthConfig | null
  ExposedPorts?: Record<string, object> | null
  Volumes?: Record<string, object> | null
  StopSignal?: string
  StopTimeout?: number
  Tty?: boolean
  OpenStdin?: boolean
  MacAddress?: string
}

/** HostConfig is passed back to the engine whole; only the fields the driver reads are named. */
export interface HostConfig {
  NetworkMode?: string
  Binds?: string[] | null
  Mounts?: unknown
  PortBindings?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null
  Links?: string[] | null
  AutoRemove?: boolean
}

export interface EndpointSettings {
  Aliases?: string[] | null
  Links?: string[] | null
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } | null
  NetworkID?: string
}

export interface MountPoint {
  Type: string
  Name?: string
  Source: string
  Destination: string
  RW: boolean
}

export interface ContainerInspect {
  Id: string
  Name: string
  Image: string
  RestartCount: number
  Config: ContainerConfig
  HostConfig: HostConfig
  State: {
    Status: string
    Running: boolean
    Restarting: boolean
    ExitCode: number
    Error: string
    StartedAt: string
    Health?: { Status: string; Log?: Array<{ ExitCode: number; Output: string }> | null }
  }
  Mounts: MountPoint[]
  NetworkSettings: {
    Networks?: Record<string, EndpointSettings> | null
    Ports?: Record<string, Array<{ HostIp: string; HostPort: string }> | null> | null
  }
}

export interface ContainerSummary {
  Id: string
  Names: string[]
  Labels: Record<string, string>
  State: string
}

export interface ImageInspect {
  Id: string
  Config?: ContainerConfig | null
  /** `repo@sha256:…` for each registry the image was pulled from or pushed to. */
  RepoDigests?: string[] | null
}

export interface ContainerCreateOptions extends ContainerConfig {
  name: string
  HostConfig?: HostConfig
  NetworkingConfig?: { EndpointsConfig?: Record<string, EndpointSettings> }
}

export interface DockerContainer {
  inspect(): Promise<ContainerInspect>
  start(): Promise<unknown>
  stop(options?: { t?: number }): Promise<unknown>
  remove(options?: { force?: boolean; v?: boolean }): Promise<unknown>
  rename(options: { name: string }): Promise<unknown>
  logs(options: { stdout: boolean; stderr: boolean; tail: number; follow?: false }): Promise<Buffer>
}

export interface DockerNetwork {
  connect(options: { Container: string; EndpointConfig?: EndpointSettings }): Promise<unknown>
}

export interface DockerService {
  inspect(): Promise<SwarmServiceInspect>
  /** `_query` goes to the query string (version), `_body` is the new spec (docker-modem). */
  update(options: {
    _query: Record<string, unknown>
    _body: SwarmServiceSpec
    /** Sent as X-Registry-Auth, so the manager and its workers can pull a private image. */
    authconfig?: RegistryAuth
  }): Promise<unknown>
}

/** A Swarm service spec; passed back whole, only the fields the driver reads are named. */
export interface SwarmServiceSpec {
  Name?: string
  Labels?: Record<string, string>
  TaskTemplate?: {
    ContainerSpec?: { Image?: string; Env?: string[] | null; Labels?: Record<string, string> }
    ForceUpdate?: number
    Networks?: Array<{ Target: string }>
  }
  Mode?: { Replicated?: { Replicas?: number }; Global?: object }
  UpdateConfig?: Record<string, unknown>
  RollbackConfig?: Record<string, unknown>
  EndpointSpec?: Record<string, unknown>
}

export interface SwarmServiceInspect {
  ID: string
  Version: { Index: number }
  Spec: SwarmServiceSpec
  UpdateStatus?: { State?: string; StartedAt?: string; CompletedAt?: string; Message?: string }
  Endpoint?: { Ports?: SwarmPort[] | null }
}

/** A port of a Swarm service's endpoint, published through the ingress mesh or on each node. */
export interface SwarmPort {
  Protocol?: string
  TargetPort: number
  PublishedPort?: number
  PublishMode?: 'ingress' | 'host'
}

export interface SwarmTask {
  ID: string
  Slot?: number
  NodeID?: string
  DesiredState: string
  CreatedAt?: string
  Spec?: { ContainerSpec?: { Image?: string } }
  Status: {
    State: string
    Message?: string
    Err?: string
    Timestamp?: string
    ContainerStatus?: { ContainerID?: string; ExitCode?: number }
  }
}

type Filters = Record<string, string[]>

/** The calls both drivers make; dockerode satisfies it, tests may wrap it to observe. */
export interface DockerClient {
  ping(): Promise<unknown>
  listContainers(options: { all: boolean; filters: string }): Promise<ContainerSummary[]>
  getContainer(id: string): DockerContainer
  createContainer(options: ContainerCreateOptions): Promise<{ id: string }>
  getImage(name: string): {
    inspect(): Promise<ImageInspect>
  }
  getNetwork(id: string): DockerNetwork
  getService(id: string): DockerService
  listTasks(options: { filters: string }): Promise<SwarmTask[]>
  /**
   * Resolves when the pull stream ends; rejects with the engine's message when it fails.
   * `auth` goes to the engine as X-Registry-Auth: the engine reads no config.json itself.
   */
  pullImage(reference: string, auth?: RegistryAuth): Promise<void>
  /** Builds from a tar context, passing each output line on; rejects with the failed step. */
  buildImage(
    context: NodeJS.ReadableStream,
    options: BuildOptions,
    onLine: (line: string) => void,
  ): Promise<void>
}

/** What `POST /build` is asked for: the tag, the Dockerfile inside the context, labels. */
export interface BuildOptions {
  t: string
  dockerfile: string
  labels?: Record<string, string>
  signal?: AbortSignal
}

/** Engine filters as the API's query parameter wants them. */
export function toFilters(filters: Filters): string {
  return JSON.stringify(filters)
}

/** The unix socket an option or DOCKER_HOST names, else the engine's default socket. */
export function resolveSocketPath(socketPath: string | undefined): string {
  if (socketPath) {
    return socketPath.replace(/^unix:\/\//, '')
  }
  const host = process.env.DOCKER_HOST
  if (host?.startsWith('unix://')) {
    return host.slice('unix://'.length)
  }
  return '/var/run/docker.sock'
}

/** A dockerode client on a unix socket, narrowed to DockerClient. */
export function connectDocker(socketPath: string): DockerClient {
  const docker = new Docker({ socketPath })
  return {
    ping: () => docker.ping(),
    listContainers: (options) => docker.listContainers(options),
    getContainer: (id) => docker.getContainer(id),
    // The engine decodes null as "unset"; @types/dockerode only admits undefined there.
    createContainer: (options) => docker.createContainer(options as Docker.ContainerCreateOptions),
    getImage: (name) => docker.getImage(name),
    getNetwork: (id) => {
      const network = docker.getNetwork(id)
      return { connect: (options) => network.connect(options as Docker.NetworkConnectOptions) }
    },
    getService: (id) => docker.getService(id),
    listTasks: (options) => docker.listTasks(options),
    pullImage: (reference, auth) => pullImage(docker, reference, auth),
    buildImage: (context, options, onLine) => buildImage(docker, context, options, onLine),
  }
}

async function buildImage(
  docker: Docker,
  context: NodeJS.ReadableStream,
  { signal, ...query }: BuildOptions,
  onLine: (line: string) => void,
): Promise<void> {
  // `rm` drops the intermediate containers of the classic builder, failed steps' too.
  const stream = await docker.buildImage(context, {
    ...query,
    rm: true,
    forcerm: true,
    abortSignal: signal,
  })
  await new Promise<void>((resolve, reject) => {
    let pending = ''
    let failure: string | undefined
    // JSON lines: {"stream": "Step 1/3 : …\n"} as it goes, {"error": …} when a step fails.
    const take = (text: string): void => {
      let event: { stream?: string; status?: string; error?: string }
      try {
        event = JSON.parse(text) as typeof event
      } catch {
        event = { stream: text }
      }
      failure ??= event.error
      for (const line of (event.stream ?? event.status ?? event.error ?? '').split('\n')) {
        if (line.trim() !== '') {
          onLine(line.trimEnd())
        }
      }
    }
    stream.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString('utf8')).split('\n')
      pending = lines.pop() ?? ''
      lines.filter((line) => line.trim() !== '').forEach(take)
    })
    stream.on('error', reject)
    // An aborted request closes without 'end'; the abort is the caller's to report.
    stream.on('close', () => reject(new Error('the build output ended before the build did')))
    stream.on('end', () => {
      if (pending.trim() !== '') {
        take(pending)
      }
      if (failure === undefined) {
        resolve()
      } else {
        reject(new Error(failure))
      }
    })
  })
}

async function pullImage(
  docker: Docker,
  reference: string,
  auth: RegistryAuth | undefined,
): Promise<void> {
  const stream = await docker.pull(reference, auth === undefined ? {} : { authconfig: auth })
  await new Promise<void>((resolve, reject) => {
    // Pull errors arrive inside the progress stream ({error}), not as an HTTP status.
    docker.modem.followProgress(
      stream,
      (error: Error | null, events: Array<{ error?: string }>) => {
        const failed = events?.find((event) => event.error)
        if (error) {
          reject(error)
        } else if (failed) {
          reject(new Error(failed.error))
        } else {
          resolve()
        }
      },
    )
  })
}

/**
 * True for errors that mean the socket could not be reached, or went away under a request:
 * an engine stopping while a request body is written fails it with EPIPE, not a connect error.
 */
export function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code
  return code !== undefined && UNREACHABLE_CODES.has(code)
}

const UNREACHABLE_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'ECONNRESET', 'EPIPE'])

/** The HTTP status an engine error carries, when it has one. */
export function engineStatus(error: unknown): number | undefined {
  return (error as { statusCode?: number } | null)?.statusCode
}

/** The engine's own message, without dockerode's "(HTTP code 404) no such container -" prefix. */
export function engineMessage(error: unknown): string {
  const json = (error as { json?: { message?: string } } | null)?.json
  if (json?.message) {
    return json.message
  }
  const message = error instanceof Error ? error.message : String(error)
  return message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim()
}

/** Splits a non-TTY log buffer (8-byte frame headers) into its text; TTY logs are raw. */
export function demuxLogs(buffer: Buffer): string {
  const parts: Buffer[] = []
  let offset = 0
  while (offset + 8 <= buffer.length) {
    const stream = buffer[offset]
    const size = buffer.readUInt32BE(offset + 4)
    if ((stream !== 0 && stream !== 1 && stream !== 2) || buffer[offset + 1] !== 0) {
      return buffer.toString('utf8')
    }
    parts.push(buffer.subarray(offset + 8, offset + 8 + size))
    offset += 8 + size
  }
  return offset === 0 && buffer.length > 0
    ? buffer.toString('utf8')
    : Buffer.concat(parts).toString('utf8')
}
