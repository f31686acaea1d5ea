/** Builds a replacement container's create options from the old container's inspected state. */
import { isDeepStrictEqual } from 'node:util'

import type {
  ContainerConfig,
  ContainerCreateOptions,
  ContainerInspect,
  EndpointSettings,
  HostConfig,
} from './docker-client.ts'

export interface Replacement {
  options: ContainerCreateOptions
  /** Networks beyond the first, connected before start: API 1.41 takes one at create time. */
  extraNetworks: Array<[string, EndpointSettings]>
}

/**
 * The old container's settings with the new image and `env` merged in.
 *
 * Inspect reports the image's defaults merged into Config (its ENV, CMD, HEALTHCHECK, labels).
 * Copying them verbatim would pin the OLD image's defaults onto the new image, so a new
 * HEALTHCHECK or ENV would never take effect. Values equal to the old image's are therefore left
 * out and the new image supplies them; values that differ were set by whoever created the
 * container and are kept (Watchtower recreates containers the same way).
 */
export function replacementFor(
  old: ContainerInspect,
  oldImage: ContainerConfig | null,
  image: string,
  env: Record<string, string>,
  name: string,
): Replacement {
  const config = old.Config
  const base = oldImage ?? {}
  const options: ContainerCreateOptions = { name, Image: image }

  options.Env = mergeEnv(subtract(config.Env ?? [], base.Env ?? []), env)
  const sameEntrypoint = isDeepStrictEqual(config.Entrypoint ?? null, base.Entrypoint ?? null)
  if (!sameEntrypoint) {
    options.Entrypoint = config.Entrypoint ?? null
    options.Cmd = config.Cmd ?? null
  } else if (!isDeepStrictEqual(config.Cmd ?? null, base.Cmd ?? null)) {
    options.Cmd = config.Cmd ?? null
  }
  if (config.Healthcheck && !isDeepStrictEqual(config.Healthcheck, base.Healthcheck ?? undefined)) {
    options.Healthcheck = config.Healthcheck
  }
  options.Labels = subtractRecord(config.Labels ?? {}, base.Labels ?? {})
  options.ExposedPorts = subtractKeys(config.ExposedPorts ?? {}, base.ExposedPorts ?? {})
  options.Volumes = subtractKeys(config.Volumes ?? {}, base.Volumes ?? {})
  for (const field of ['User', 'WorkingDir', 'StopSignal'] as const) {
    if (config[field] && config[field] !== base[field]) {
      options[field] = config[field]
    }
  }
  if (config.StopTimeout !== undefined) {
    options.StopTimeout = config.StopTimeout
  }
  options.Tty = config.Tty ?? false
  options.OpenStdin = config.OpenStdin ?? false
  if (config.Domainname) {
    options.Domainname = config.Domainname
  }
  const networkMode = old.HostConfig.NetworkMode ?? 'default'
  // The engine sets Hostname to the short id when none was given, and to the host's name on
  // the host network; only a name someone chose is worth keeping.
  const sharesNamespace = networkMode === 'host' || networkMode.startsWith('container:')
  if (config.Hostname && config.Hostname !== old.Id.slice(0, 12) && !sharesNamespace) {
    options.Hostname = config.Hostname
  }

  options.HostConfig = hostConfigFor(old)
  const { primary, extra } = endpointsFor(old, networkMode)
  if (primary) {
    options.NetworkingConfig = { EndpointsConfig: { [primary[0]]: primary[1] } }
  }
  return { options, extraNetworks: extra }
}

/** Why a new container cannot run beside the old one, or null when start-first is safe. */
export function startFirstConflict(old: ContainerInspect): string | null {
  const bindings = old.HostConfig.PortBindings ?? {}
  for (const [port, hosts] of Object.entries(bindings)) {
    const fixed = (hosts ?? []).find((host) => host.HostPort && host.HostPort !== '0')
    if (fixed) {
      return `it publishes ${port} on host port ${fixed.HostPort}, which two containers cannot share`
    }
  }
  const exposed = Object.keys(old.Config.ExposedPorts ?? {})
  if (old.HostConfig.NetworkMode === 'host' && exposed.length > 0) {
    return `it runs on the host network and exposes ${exposed.join(', ')}, which two containers cannot share`
  }
  for (const [network, endpoint] of Object.entries(old.NetworkSettings.Networks ?? {})) {
    const address = endpoint.IPAMConfig?.IPv4Address || endpoint.IPAMConfig?.IPv6Address
    if (address) {
      return `it has the fixed address ${address} on network ${network}`
    }
  }
  return null
}

function hostConfigFor(old: ContainerInspect): HostConfig {
  const host: HostConfig = { ...old.HostConfig }
  // Inspect writes links as "/db:/web/db"; create wants "db:db".
  if (host.Links) {
    host.Links = host.Links.map((link) => {
      const [target = '', alias = ''] = link.split(':')
      return `${target.replace(/^\//, '')}:${alias.split('/').pop() ?? ''}`
    })
  }
  // Anonymous volumes (image VOLUME, `-v /data`) are bound by name so the data stays.
  const covered = new Set<string>()
  for (const bind of host.Binds ?? []) {
    covered.add(bind.split(':')[1] ?? '')
  }
  for (const mount of (Array.isArray(host.Mounts) ? host.Mounts : []) as Array<{
    Target?: string
  }>) {
    covered.add(mount.Target ?? '')
  }
  const kept = old.Mounts.filter(
    (mount) => mount.Type === 'volume' && mount.Name && !covered.has(mount.Destination),
  ).map((mount) => `${mount.Name}:${mount.Destination}${mount.RW ? '' : ':ro'}`)
  if (kept.length > 0) {
    host.Binds = [...(host.Binds ?? []), ...kept]
  }
  return host
}

function endpointsFor(
  old: ContainerInspect,
  networkMode: string,
): { primary: [string, EndpointSettings] | null; extra: Array<[string, EndpointSettings]> } {
  if (
    ['host', 'none', 'default', 'bridge'].includes(networkMode) ||
    networkMode.startsWith('container:')
  ) {
    return { primary: null, extra: [] }
  }
  const shortId = old.Id.slice(0, 12)
  const entries = Object.entries(old.NetworkSettings.Networks ?? {}).map(
    ([network, endpoint]): [string, EndpointSettings] => [
      network,
      {
        // The engine adds the container's short id as an alias; the new one gets its own.
        Aliases: (endpoint.Aliases ?? []).filter((alias) => alias !== shortId),
        Links: endpoint.Links ?? null,
        IPAMConfig: endpoint.IPAMConfig ?? null,
      },
    ],
  )
  const primaryIndex = Math.max(
    0,
    entries.findIndex(([network]) => network === networkMode),
  )
  const primary = entries[primaryIndex] ?? null
  return { primary, extra: entries.filter((_, index) => index !== primaryIndex) }
}

function subtract(values: string[], defaults: string[]): string[] {
  const inherited = new Set(defaults)
  return values.filter((value) => !inherited.has(value))
}

function subtractRecord(
  values: Record<string, string>,
  defaults: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).filter(([key, value]) => defaults[key] !== value),
  )
}

function subtractKeys(
  values: Record<string, object>,
  defaults: Record<string, object>,
): Record<string, object> {
  return Object.fromEntries(Object.entries(values).filter(([key]) => !(key in defaults)))
}

/** `KEY=value` entries with `env` overriding same-named ones, in stable order. */
export function mergeEnv(entries: string[], env: Record<string, string>): string[] {
  const merged = new Map<string, string>()
  for (const entry of entries) {
    const index = entry.indexOf('=')
    merged.set(index === -1 ? entry : entry.slice(0, index), entry)
  }
  for (const [key, value] of Object.entries(env)) {
    merged.set(key, `${key}=${value}`)
  }
  return [...merged.values()]
}
