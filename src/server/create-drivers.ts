/** The drivers a server runs, from DECKHAND_DRIVERS; each loads only when enabled. */
import { existsSync } from 'node:fs'
import { join } from 'node:path'

import type { Logger } from 'pino'

import type { Driver } from '../drivers/driver.ts'
import { DRIVER_NAMES, type DriverName } from '../model/index.ts'
import { RegistryClient } from '../registry/registry-client.ts'
import { RegistryCredentials } from '../registry/registry-credentials.ts'
import { type ServerSettings, SettingsError } from './settings.ts'

export async function createDrivers(settings: ServerSettings, logger: Logger): Promise<Driver[]> {
  const names = new Set(settings.drivers)
  if (dockerHost(settings) || existsSync('/var/run/docker.sock')) {
    names.add('docker')
    names.add('swarm')
  }
  const drivers: Driver[] = []
  for (const name of names) {
    if (!DRIVER_NAMES.includes(name as DriverName)) {
      throw new SettingsError(
        `DECKHAND_DRIVERS names ${JSON.stringify(name)}; known drivers: ${DRIVER_NAMES.join(', ')}`,
      )
    }
    drivers.push(await loadDriver(name as DriverName, settings, logger))
  }
  return drivers
}

async function loadDriver(
  name: DriverName,
  settings: ServerSettings,
  logger: Logger,
): Promise<Driver> {
  // The config.json is read at each pull; one reader serves both Docker drivers and their digests.
  const credentials = new RegistryCredentials(settings.registryAuth)
  switch (name) {
    case 'process': {
      const { ProcessDriver } = await import('../drivers/process/process-driver.ts')
      const log = logger.child({ driver: 'process' })
      return new ProcessDriver({
        dataDir: join(settings.dataDir),
        log: (msg, fields) => log.info(fields ?? {}, msg),
      })
    }
    case 'command': {
      const { CommandDriver } = await import('../drivers/command/command-driver.ts')
      return new CommandDriver()
    }
    case 'docker': {
      const { DockerDriver } = await import('../drivers/docker/docker-driver.ts')
      return new DockerDriver({
        socketPath: dockerHost(settings),
        gitDir: join(settings.dataDir, 'git'),
        credentials,
        registry: registryClient(settings, credentials),
      })
    }
    case 'swarm': {
      const { SwarmDriver } = await import('../drivers/swarm/swarm-driver.ts')
      return new SwarmDriver({
        socketPath: dockerHost(settings),
        credentials,
        registry: registryClient(settings, credentials),
      })
    }
    case 'kubernetes': {
      const { KubernetesDriver } = await import('../drivers/kubernetes/kubernetes-driver.ts')
      return new KubernetesDriver({})
    }
  }
}

// Settings carry DOCKER_HOST when they were read from an environment that had it (a test
// server's own env); the process environment still counts for settings built another way.
function dockerHost(settings: ServerSettings): string | undefined {
  return settings.dockerHost || process.env.DOCKER_HOST || undefined
}

/**
 * The registry client the docker and swarm drivers ask for digests (and the watcher asks for
 * tags and digests), with the credentials of
 * DECKHAND_REGISTRY_AUTH for the registry's token or basic auth (an identity token is an OAuth
 * refresh token the client does not speak: such a registry is asked anonymously).
 */
export function registryClient(
  settings: ServerSettings,
  credentials: RegistryCredentials,
): RegistryClient {
  return new RegistryClient({
    ca: settings.registryCa,
    certsDir: settings.registryCertsDir,
    credentialsFor: (host) => credentials.basicFor(host),
  })
}
