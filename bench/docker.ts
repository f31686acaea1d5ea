/**
 * docker: one container redeployed 20 times by Deckhand (start-first, no HEALTHCHECK, the image
 * present, `deploy.settle: 0s` so the figure is Deckhand's own cost), against the same engine
 * operations made directly through the socket by the bench (create, start, stop, remove), the
 * two interleaved one replacement at a time and compared by their medians.
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
    const direct = await directReplacer(docker, engine.labels)
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
      // One direct replacement, then one redeploy, and so on: both see the same moments of a
      // shared machine, and medians keep one slow moment from deciding the ratio.
      const engineMs: number[] = []
      const deckhandMs: number[] = []
      const deploymentMs: number[] = []
      for (let n = 0; n < REDEPLOYS; n++) {
        engineMs.push(await direct.replace())
        const started = performance.now()
        const answer = await fetch(`${deckhand.url}${trigger.path}?wait=60s`, { method: 'POST' })
        const body = (await answer.json()) as { status: string; deployments?: { id: string }[] }
        if (answer.status !== 200) {
          throw new Error(`redeploy ${n + 1} answered ${answer.status}: ${JSON.stringify(body)}`)
        }
        deckhandMs.push(performance.now() - started)
        const ran = await deckhand.api('GET', `/api/v1/deployments/${body.deployments![0]!.id}`)
        deploymentMs.push(Date.parse(ran.body.finishedAt) - Date.parse(ran.body.startedAt))
      }
      await direct.finish()
      return {
        redeploys: REDEPLOYS,
        engineMsPerRedeploy: round(median(engineMs)),
        deckhandMsPerRedeploy: round(median(deckhandMs)),
        deploymentMsPerRedeploy: round(median(deploymentMs)),
        ratio: round(median(deckhandMs) / median(engineMs)),
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

/** Replaces a container directly: create and start the new one, stop and remove the old. */
async function directReplacer(docker: Docker, labels: Record<string, string>) {
  let count = 0
  const create = () =>
    docker.createContainer({
      name: `bench-direct-${count++}`,
      Image: IMAGE,
      Labels: labels,
      HostConfig: { NetworkMode: 'none' },
    })
  let old = await create()
  await old.start()
  return {
    /** Milliseconds one replacement took. */
    async replace(): Promise<number> {
      const started = performance.now()
      const next = await create()
      await next.start()
      await old.stop({ t: 10 })
      await old.remove()
      old = next
      return performance.now() - started
    },
    finish: () => old.remove({ force: true }),
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}
