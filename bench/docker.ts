/**
 * docker: one container redeployed 20 times by Deckhand (start-first, no HEALTHCHECK, the image
 * present, `deploy.settle: 0s` so the figure is Deckhand's own cost), against the same engine
 * operations made directly through the socket by the bench (create, start, stop, remove).
 * Both run on a private dockerd, started as the tests start theirs (test/support), so nothing
 * touches the machine's own engine. Answers undefined, saying why, when docker is missing.
 */
import Docker from 'dockerode'

import {
  BASE_IMAGE,
  dockerUnavailableReason,
  startPrivateDockerd,
} from '../test/support/private-dockerd.ts'
import {
  removeDir,
  round,
  serviceWithTrigger,
  type Settings,
  startDeckhand,
  tempDir,
} from './lib.ts'

export const REDEPLOYS = 20
const IMAGE = 'deckhand-bench/app:1'
// As the tests' app (test/support/dockerd-setup.ts, not imported: it brings node:test hooks):
// idles until SIGTERM and exits 0 at once, so a stop costs no grace period.
const APP = `CMD ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]`

export interface DockerResult {
  redeploys: number
  engineMsPerRedeploy: number
  deckhandMsPerRedeploy: number
  /** Time Deckhand's deployments ran (startedAt → finishedAt), the queue and HTTP left out. */
  deploymentMsPerRedeploy: number
  ratio: number
}

export async function benchDocker(
  _settings: Settings,
): Promise<DockerResult | { skipped: string }> {
  const missing = dockerUnavailableReason()
  if (missing) {
    return { skipped: missing }
  }
  const { engine, stop } = await startPrivateDockerd()
  const dataDir = tempDir('docker')
  try {
    await engine.buildImage(IMAGE, `FROM ${BASE_IMAGE}\n${APP}\n`)
    const docker = new Docker({ socketPath: engine.socketPath })
    const engineMs = await engineOperations(docker, engine.labels)
    const deckhand = await startDeckhand(dataDir, {
      DOCKER_HOST: `unix://${engine.socketPath}`,
      DECKHAND_DRIVERS: 'process,command,docker',
    })
    try {
      await engine.run(['--name', 'bench-web', '--network', 'none', IMAGE])
      const trigger = await serviceWithTrigger(deckhand, {
        name: 'bench-web',
        driver: 'docker',
        target: { container: 'bench-web' },
        image: 'deckhand-bench/app',
        deploy: { order: 'start-first', settle: '0s' },
      })
      const started = performance.now()
      let deploymentMs = 0
      for (let n = 0; n < REDEPLOYS; n++) {
        const answer = await fetch(`${deckhand.url}${trigger.path}?wait=60s`, { method: 'POST' })
        const body = (await answer.json()) as { status: string; deployments?: { id: string }[] }
        if (answer.status !== 200) {
          throw new Error(`redeploy ${n + 1} answered ${answer.status}: ${JSON.stringify(body)}`)
        }
        const ran = await deckhand.api('GET', `/api/v1/deployments/${body.deployments![0]!.id}`)
        deploymentMs += Date.parse(ran.body.finishedAt) - Date.parse(ran.body.startedAt)
      }
      const deckhandMs = (performance.now() - started) / REDEPLOYS
      return {
        redeploys: REDEPLOYS,
        engineMsPerRedeploy: round(engineMs),
        deckhandMsPerRedeploy: round(deckhandMs),
        deploymentMsPerRedeploy: round(deploymentMs / REDEPLOYS),
        ratio: round(deckhandMs / engineMs),
      }
    } finally {
      await deckhand.stop()
    }
  } finally {
    await engine.cleanup().catch(() => undefined)
    await stop()
    removeDir(dataDir)
  }
}

/** Milliseconds per replacement: create and start the new container, stop and remove the old. */
async function engineOperations(docker: Docker, labels: Record<string, string>): Promise<number> {
  const create = (name: string) =>
    docker.createContainer({
      name,
      Image: IMAGE,
      Labels: labels,
      HostConfig: { NetworkMode: 'none' },
    })
  let old = await create('bench-direct-0')
  await old.start()
  const started = performance.now()
  for (let n = 1; n <= REDEPLOYS; n++) {
    const next = await create(`bench-direct-${n}`)
    await next.start()
    await old.stop({ t: 10 })
    await old.remove()
    old = next
  }
  const ms = (performance.now() - started) / REDEPLOYS
  await old.remove({ force: true })
  return ms
}
