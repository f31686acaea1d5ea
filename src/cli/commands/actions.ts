/** `deckhand redeploy|rollback|scale <service>`: deployments asked for by hand, optionally awaited. */
import { type Command, InvalidArgumentError } from 'commander'

import type { ApiClient } from '../api-client.ts'
import {
  clientFor,
  encode,
  type GlobalFlags,
  isForScripts,
  outputOf,
  withGlobalFlags,
} from '../command-kit.ts'
import { EXIT } from '../exit-codes.ts'
import { followDeployment, formatLogLine } from '../follow.ts'
import { type CliIo, formatData } from '../output.ts'
import type { DeploymentRow } from './deploy.ts'

interface Accepted {
  status: 'queued' | 'ignored'
  reason?: string
  deployments?: { id: string; service: string; action: string; coalesced: boolean }[]
}

type WaitFlags = GlobalFlags & { wait?: boolean }

/** `3` → set to 3, `+2` → up by 2, `-1` → down by 1. */
export function parseScaleCount(text: string): Record<string, unknown> {
  const match = /^([+-]?)(\d+)$/.exec(text)
  if (!match) {
    throw new InvalidArgumentError(`expected a replica count n, +n or -n; got "${text}"`)
  }
  const count = Number(match[2])
  if (match[1] === '') {
    return { action: 'scale', replicas: count }
  }
  if (count < 1) {
    throw new InvalidArgumentError('a scale step must be at least 1')
  }
  return { action: match[1] === '+' ? 'scale-up' : 'scale-down', by: count }
}

export function registerActionCommands(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  const request = async (
    client: ApiClient,
    path: string,
    body: unknown,
    flags: WaitFlags,
  ): Promise<void> => {
    const scripted = isForScripts(flags)
    const data = (value: unknown): string =>
      formatData(value, outputOf(flags) === 'yaml' ? 'yaml' : 'json')
    const answer = await client.request<Accepted>(path, { method: 'POST', body })
    const deployments = answer.deployments ?? []
    if (answer.status === 'ignored' || deployments.length === 0) {
      io.stdout(
        scripted
          ? data(answer)
          : `nothing to do: ${answer.reason ?? 'the server ignored the request'}\n`,
      )
      return
    }
    if (!flags.wait) {
      io.stdout(
        scripted
          ? data(answer)
          : deployments
              .map(
                (d) =>
                  `${d.coalesced ? 'joined queued' : 'queued'} deployment ${d.id} (${d.action} ${d.service})\n`,
              )
              .join('') + `follow it with \`deckhand deploy logs -f ${deployments[0]!.id}\`\n`,
      )
      return
    }
    const results: DeploymentRow[] = []
    for (const deployment of deployments) {
      if (!scripted) {
        io.stderr(
          `${deployment.coalesced ? 'joined queued' : 'queued'} deployment ${deployment.id}; following it\n`,
        )
      }
      const state = await followDeployment(client, deployment.id, (line) => {
        if (!scripted) {
          io.stdout(formatLogLine(line))
        }
      })
      const final = await client.request<DeploymentRow>(
        `/api/v1/deployments/${encode(deployment.id)}`,
      )
      results.push(final)
      if (!scripted) {
        io.stderr(`deployment ${deployment.id} ${state}${final.error ? `: ${final.error}` : ''}\n`)
      }
    }
    if (scripted) {
      io.stdout(data(results.length === 1 ? results[0] : results))
    }
    setExit(results.every((d) => d.state === 'succeeded') ? EXIT.ok : EXIT.failed)
  }

  withGlobalFlags(
    program
      .command('redeploy')
      .argument('<service>')
      .description('redeploy a service now, as a trigger call would')
      .option('--tag <tag>', "run this image tag (the service's tag policy must allow it)")
      .option('--wait', 'follow the deployment until it ends; exit 0 only if it succeeded'),
  ).action(async (service: string, flags: WaitFlags & { tag?: string }) => {
    const body = { action: 'redeploy', ...(flags.tag !== undefined ? { tag: flags.tag } : {}) }
    await request(
      clientFor(flags, io),
      `/api/v1/services/${encode(service)}/deployments`,
      body,
      flags,
    )
  })

  withGlobalFlags(
    program
      .command('rollback')
      .argument('<service>')
      .description(
        'redeploy the tag and environment of the last successful deployment before the current one',
      )
      .option('--wait', 'follow the deployment until it ends; exit 0 only if it succeeded'),
  ).action(async (service: string, flags: WaitFlags) => {
    await request(
      clientFor(flags, io),
      `/api/v1/services/${encode(service)}/rollback`,
      undefined,
      flags,
    )
  })

  withGlobalFlags(
    program
      .command('scale')
      .argument('<service>')
      .argument(
        '<count>',
        'n to set the replicas, +n or -n to step (clamped to scale.min..scale.max)',
        parseScaleCount,
      )
      .description('set or step the replica count of a service')
      .option('--wait', 'follow the deployment until it ends; exit 0 only if it succeeded'),
  ).action(async (service: string, body: Record<string, unknown>, flags: WaitFlags) => {
    await request(
      clientFor(flags, io),
      `/api/v1/services/${encode(service)}/deployments`,
      body,
      flags,
    )
  })
}
