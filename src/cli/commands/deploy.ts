/**
 * `deckhand deploy ls|show|logs [-f]|cancel|start|approve|reject`: deployment history, logs,
 * cancellation and the votes of deployments awaiting approval.
 */
import { type Command, Option } from 'commander'
import { stringify } from 'yaml'

import { DEPLOYMENT_STATES } from '../../model/index.ts'
import {
  clientFor,
  emit,
  encode,
  type GlobalFlags,
  listAll,
  outputOf,
  withGlobalFlags,
  withLimit,
} from '../command-kit.ts'
import { EXIT } from '../exit-codes.ts'
import { followDeployment, formatLogLine, type LogLineView } from '../follow.ts'
import {
  type CliIo,
  firstLine,
  formatAge,
  formatElapsed,
  formatFields,
  formatTable,
} from '../output.ts'
import { showOrWatch, type WatchFlags, withWatch } from '../watch.ts'

export interface DeploymentRow {
  id: string
  service: string
  action: string
  state: string
  params: { tag?: string; by?: number; replicas?: number; digest?: string }
  calls: number
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
  error: string | null
  /** What a succeeded redeploy or rollback ran; absent from servers before digests. */
  image?: string | null
  digest?: string | null
  /** What a failed redeploy tried that differs from what runs (the service row was put back). */
  tried?: { target?: unknown; image?: string | null; tag?: string } | null
  /** Why a held deployment waits, and until when. */
  hold?: { until: string | null; reason: string } | null
  /** The service's deploy.approvals and the votes so far; absent when there are none. */
  approvals?: ApprovalsView
}

interface ApprovalsView {
  required: number | null
  deadline: string | null
  votes: { by: string; vote: string; note: string | null; at: string }[]
}

/** `approvals:` of `deploy show`: the count and deadline, then one line per vote. */
function formatApprovals(approvals: ApprovalsView, state: string): string {
  const approved = approvals.votes.filter((v) => v.vote === 'approve').length
  const needed = approvals.required === null ? '' : ` of ${approvals.required}`
  const until =
    state === 'awaiting-approval' && approvals.deadline ? `, deadline ${approvals.deadline}` : ''
  const votes = approvals.votes.map(
    (v) =>
      `  ${v.vote === 'approve' ? 'approved' : 'rejected'} by ${v.by} at ${v.at}` +
      (v.note ? `: ${v.note}` : ''),
  )
  return [`approvals: ${approved}${needed}${until}`, ...votes].join('\n') + '\n'
}

/** `tag=v2`, `by=+2`, `replicas=3`: what the deployment was asked to do. */
export function describeParams(params: DeploymentRow['params']): string {
  const parts: string[] = []
  if (params.tag !== undefined) {
    parts.push(`tag=${params.tag}`)
  }
  if (params.by !== undefined) {
    parts.push(`by=${params.by > 0 ? '+' : ''}${params.by}`)
  }
  if (params.replicas !== undefined) {
    parts.push(`replicas=${params.replicas}`)
  }
  if (params.digest !== undefined) {
    parts.push(`digest=${params.digest}`)
  }
  return parts.join(' ')
}

/** Columns of the ERROR cell in `deploy ls` (wide shows the whole first line). */
export const ERROR_WIDTH = 60

/**
 * How `deploy logs` prints a line, with or without -f: -o json is one object per line (JSON
 * Lines, so `jq` reads a followed log as it comes), -o yaml one document per line.
 */
function logPrinter(flags: GlobalFlags): (line: LogLineView) => string {
  switch (outputOf(flags)) {
    case 'json':
      return (line) => `${JSON.stringify(line)}\n`
    case 'yaml':
      return (line) => `---\n${stringify(line, { lineWidth: 0 })}`
    default:
      return formatLogLine
  }
}

export function registerDeployCommands(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  const deploy = program
    .command('deploy')
    .description('list deployments, show them, read or follow their logs, cancel, approve, reject')

  withWatch(
    withLimit(
      withGlobalFlags(
        deploy
          .command('ls')
          .alias('list')
          .description('list deployments, newest first')
          .option('--service <name>', 'only this service')
          .addOption(new Option('--state <state>', 'only this state').choices(DEPLOYMENT_STATES)),
      ),
      20,
    ),
  ).action(
    async (
      flags: GlobalFlags & WatchFlags & { limit: number; service?: string; state?: string },
    ) => {
      const query = { service: flags.service, state: flags.state }
      const client = clientFor(flags, io)
      await showOrWatch(
        io,
        flags,
        () => listAll<DeploymentRow>(client, '/api/v1/deployments', query, flags.limit),
        (rows, wide) =>
          rows.length === 0
            ? 'no deployments\n'
            : formatTable(rows, [
                { header: 'ID', value: (d) => d.id },
                { header: 'SERVICE', value: (d) => d.service },
                { header: 'ACTION', value: (d) => d.action },
                { header: 'STATE', value: (d) => d.state },
                { header: 'PARAMS', value: (d) => describeParams(d.params) },
                { header: 'CALLS', value: (d) => d.calls, right: true },
                { header: 'CREATED', value: (d) => formatAge(d.createdAt, io.now()) },
                { header: 'TOOK', value: (d) => formatElapsed(d.startedAt, d.finishedAt) },
                // A table row stays one line: the first line of the error, cut; `deploy show` has all of it.
                {
                  header: 'ERROR',
                  value: (d) => (wide ? firstLine(d.error) : firstLine(d.error, ERROR_WIDTH)),
                },
              ]),
      )
    },
  )

  withGlobalFlags(
    deploy.command('show').argument('<id>').description('show one deployment'),
  ).action(async (id: string, flags: GlobalFlags) => {
    const shown = await clientFor(flags, io).request<DeploymentRow>(
      `/api/v1/deployments/${encode(id)}`,
    )
    emit(io, flags, shown, (d) => {
      const { error, tried, approvals, hold, ...fields } = d
      // An error may span lines (a command's output): it gets its own indented block.
      const head = formatFields({
        ...fields,
        params: describeParams(d.params) || '-',
        ...(hold
          ? { held: `${hold.until ? `until ${hold.until}` : 'until unfrozen'}: ${hold.reason}` }
          : {}),
        ...(error ? {} : { error: null }),
      })
      const errorBlock = error ? `${head}error:\n${error.replace(/^/gm, '  ')}\n` : head
      const body = approvals ? errorBlock + formatApprovals(approvals, d.state) : errorBlock
      return tried ? `${body}tried:\n${formatFields(tried).trimEnd().replace(/^/gm, '  ')}\n` : body
    })
  })

  withGlobalFlags(
    deploy
      .command('logs')
      .argument('<id>')
      .description('print a deployment log; with -f, follow it until the deployment ends')
      .option('-f, --follow', 'stream new lines live; exit 0 only if the deployment succeeds'),
  ).action(async (id: string, flags: GlobalFlags & { follow?: boolean }) => {
    const client = clientFor(flags, io)
    const print = logPrinter(flags)
    if (flags.follow) {
      const state = await followDeployment(client, id, (line) => io.stdout(print(line)))
      io.stderr(`deployment ${id} ${state}\n`)
      setExit(state === 'succeeded' ? EXIT.ok : EXIT.failed)
      return
    }
    const log = await client.request<{ items: LogLineView[] }>(
      `/api/v1/deployments/${encode(id)}/log`,
    )
    io.stdout(log.items.map(print).join(''))
  })

  withGlobalFlags(
    deploy
      .command('cancel')
      .argument('<id>')
      .description('cancel a queued deployment, or stop a running one'),
  ).action(async (id: string, flags: GlobalFlags) => {
    const canceled = await clientFor(flags, io).request<DeploymentRow>(
      `/api/v1/deployments/${encode(id)}/cancel`,
      {
        method: 'POST',
      },
    )
    emit(io, flags, canceled, (d) =>
      d.state === 'running'
        ? `deployment ${d.id} is stopping; follow it with \`deckhand deploy logs -f ${d.id}\`\n`
        : `deployment ${d.id} is ${d.state}\n`,
    )
  })

  withGlobalFlags(
    deploy
      .command('start')
      .argument('<id>')
      .description('start a held or awaiting deployment now, overriding windows, freezes and votes')
      .option('--note <text>', 'why, written to the deployment log (at most 500 characters)'),
  ).action(async (id: string, flags: GlobalFlags & { note?: string }) => {
    const started = await clientFor(flags, io).request<DeploymentRow>(
      `/api/v1/deployments/${encode(id)}/start`,
      { method: 'POST', body: flags.note === undefined ? {} : { note: flags.note } },
    )
    emit(io, flags, started, (d) => `deployment ${d.id} is ${d.state}\n`)
  })

  for (const [verb, description] of [
    ['approve', "approve a deployment awaiting approval, under your admin token's name"],
    ['reject', 'reject a deployment awaiting approval: it is canceled with your note'],
  ] as const) {
    withGlobalFlags(
      deploy
        .command(verb)
        .argument('<id>')
        .description(description)
        .option('--note <text>', 'why, shown with the vote (at most 500 characters)'),
    ).action(async (id: string, flags: GlobalFlags & { note?: string }) => {
      const voted = await clientFor(flags, io).request<DeploymentRow>(
        `/api/v1/deployments/${encode(id)}/${verb}`,
        { method: 'POST', body: flags.note === undefined ? {} : { note: flags.note } },
      )
      emit(io, flags, voted, (d) => {
        const approved = d.approvals?.votes.filter((v) => v.vote === 'approve').length ?? 0
        const required = d.approvals?.required
        return d.state === 'awaiting-approval'
          ? `deployment ${d.id} has ${approved} of ${required ?? '?'} approvals\n`
          : `deployment ${d.id} is ${d.state}${d.state === 'canceled' ? `: ${d.error}` : ''}\n`
      })
    })
  }
}
