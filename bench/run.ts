/**
 * `npm run bench` (`-- --quick` for about a minute; `-- --only=accept,peer` for some scenarios):
 * measures Deckhand and its reference points in one run on this machine, prints a table with
 * the ratios and the targets, and writes the figures as JSON under bench/results/.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'

import { benchAccept } from './accept.ts'
import { benchBurst } from './burst.ts'
import { benchChurn } from './churn.ts'
import { benchDocker } from './docker.ts'
import { benchEndToEnd } from './end-to-end.ts'
import { breather, ensureTool, round, type Settings } from './lib.ts'
import { benchOverload, OVERLOAD_CONNECTIONS, OVERLOAD_SECONDS } from './overload.ts'
import { benchCeiling, benchDurableCeiling, benchWebhook } from './peer.ts'
import { benchScale } from './scale.ts'

const SCENARIOS = [
  'peer',
  'durable-ceiling',
  'accept',
  'churn',
  'overload',
  'burst',
  'scale',
  'end-to-end',
  'docker',
] as const
type Scenario = (typeof SCENARIOS)[number]

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const onlyArg = args.find((a) => a.startsWith('--only='))?.slice('--only='.length)
const only = new Set<Scenario>(onlyArg ? (onlyArg.split(',') as Scenario[]) : SCENARIOS)
for (const name of only) {
  if (!SCENARIOS.includes(name)) {
    process.stderr.write(`bench: unknown scenario ${name}; known: ${SCENARIOS.join(', ')}\n`)
    process.exit(2)
  }
}
const settings: Settings = {
  quick,
  seconds: quick ? 5 : 15,
  warmupSeconds: quick ? 1 : 3,
  connections: 64,
}

ensureTool('wrk', 'wrk')
const wrkVersion = wrkBanner().split('\n')[0]!.trim()
const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memoryGb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
}
const loadGenerator = `${wrkVersion.split(' [')[0]} (1 thread, ${settings.connections} connections, ~1 KB JSON POST) for timed runs; node:http with 64 keep-alive connections for the counted burst`
process.stdout.write(
  `Deckhand bench (${quick ? 'quick' : 'full'}): ${machine.cpus} cores, ${machine.cpuModel}, Node ${machine.node}\nload generator: ${loadGenerator}\n\n`,
)

const results: Record<string, unknown> = {}
const rows: [string, string, string][] = []
const row = (scenario: string, metric: string, value: string) => {
  rows.push([scenario, metric, value])
  process.stdout.write(`  ${scenario.padEnd(15)} ${metric.padEnd(38)} ${value}\n`)
}
const targets: { name: string; met: boolean; detail: string }[] = []
const target = (name: string, met: boolean, detail: string) => targets.push({ name, met, detail })
const ms = (n: number) => `${round(n)} ms`

/** `wrk -v` prints its version and exits 1. */
function wrkBanner(): string {
  try {
    return execFileSync('wrk', ['-v'], { encoding: 'utf8' })
  } catch (error) {
    return String((error as { stdout?: string }).stdout ?? 'wrk')
  }
}

async function step<T>(name: Scenario, work: () => Promise<T>): Promise<T | undefined> {
  if (!only.has(name)) {
    return undefined
  }
  process.stdout.write(`${name} …\n`)
  const value = await work()
  results[name] = value
  await breather(quick)
  return value
}

const peer = await step('peer', async () => ({
  ceiling: await benchCeiling(settings),
  webhook: await benchWebhook(settings),
}))
if (peer) {
  for (const [name, r] of [
    ['node:http ceiling', peer.ceiling],
    [peer.webhook.version, peer.webhook],
  ] as const) {
    row(
      'peer',
      `${name} calls/s`,
      `${r.callsPerSecond} (p50 ${ms(r.p50Ms)}, p99 ${ms(r.p99Ms)}, ${r.serverCpuUsPerCall} µs CPU/call)`,
    )
  }
}
const durable = await step('durable-ceiling', () => benchDurableCeiling(settings))
if (durable) {
  row(
    'durable-ceiling',
    'node:http + fdatasync calls/s',
    `${durable.callsPerSecond} (p50 ${ms(durable.p50Ms)}, p99 ${ms(durable.p99Ms)}, ${durable.serverCpuUsPerCall} µs CPU/call)`,
  )
}
const accept = await step('accept', () => benchAccept(settings))
if (accept) {
  row('accept', 'Deckhand (SQLite) calls/s', String(accept.callsPerSecond))
  row(
    'accept',
    'p50 / p99 / max',
    `${ms(accept.p50Ms)} / ${ms(accept.p99Ms)} / ${ms(accept.maxMs)}`,
  )
  row('accept', 'non-2xx answers, socket errors', `${accept.non2xx}, ${accept.socketErrors}`)
  row('accept', 'server CPU per call', `${accept.serverCpuUsPerCall} µs`)
  row('accept', 'server RSS after the run', `${accept.rssMb} MB`)
  target('accept p99 ≤ 10 ms at 64 connections', accept.p99Ms <= 10, ms(accept.p99Ms))
  target(
    'every accept answered 2xx',
    accept.non2xx === 0 && accept.socketErrors === 0,
    `${accept.non2xx} non-2xx, ${accept.socketErrors} socket errors`,
  )
  if (peer) {
    const toCeiling = accept.callsPerSecond / peer.ceiling.callsPerSecond
    const toWebhook = accept.callsPerSecond / peer.webhook.callsPerSecond
    results.ratios = { deckhandToCeiling: round(toCeiling), deckhandToWebhook: round(toWebhook) }
    row('ratio', 'Deckhand / node:http ceiling', `${round(toCeiling)}×`)
    row('ratio', 'Deckhand / adnanh/webhook', `${round(toWebhook)}×`)
    target('accept ≥ 0.5× node:http ceiling', toCeiling >= 0.5, `${round(toCeiling)}×`)
    target('accept ≥ 3× adnanh/webhook', toWebhook >= 3, `${round(toWebhook)}×`)
  }
  if (durable) {
    const toDurable = accept.callsPerSecond / durable.callsPerSecond
    const p99ToDurable = accept.p99Ms / durable.p99Ms
    results.durableRatios = {
      deckhandToDurable: round(toDurable),
      p99ToDurable: round(p99ToDurable),
    }
    row('ratio', 'Deckhand / durable ceiling', `${round(toDurable)}× (p99 ${round(p99ToDurable)}×)`)
    target('accept ≥ 0.7× durable ceiling', toDurable >= 0.7, `${round(toDurable)}×`)
    target('accept p99 ≤ 2× durable ceiling p99', p99ToDurable <= 2, `${round(p99ToDurable)}×`)
  }
}
const churn = await step('churn', () => benchChurn(settings))
if (churn) {
  row('churn', 'calls/s (redeploy `true`)', String(churn.callsPerSecond))
  row('churn', 'p50 / p99 / max', `${ms(churn.p50Ms)} / ${ms(churn.p99Ms)} / ${ms(churn.maxMs)}`)
  row('churn', 'deployments run during the load', String(churn.deploymentsRun))
  row('churn', 'non-2xx answers, socket errors', `${churn.non2xx}, ${churn.socketErrors}`)
  row('churn', 'server CPU per call', `${churn.serverCpuUsPerCall} µs`)
  if (accept) {
    const toAccept = churn.callsPerSecond / accept.callsPerSecond
    const p99ToAccept = churn.p99Ms / accept.p99Ms
    row('ratio', 'churn / accept', `${round(toAccept)}× (p99 ${round(p99ToAccept)}×)`)
    target('churn ≥ 0.8× accept', toAccept >= 0.8, `${round(toAccept)}×`)
    target('churn p99 ≤ 2× accept p99', p99ToAccept <= 2, `${round(p99ToAccept)}×`)
  }
}
const overload = await step('overload', () => benchOverload(settings))
if (overload) {
  const label = `${OVERLOAD_CONNECTIONS} connections, ${OVERLOAD_SECONDS} s`
  row('overload', `calls/s answered 202 (${label})`, String(overload.acceptedPerSecond))
  row('overload', '503 answers (shed metric)', `${overload.shed} (${overload.shedMetric})`)
  row(
    'overload',
    'all answers/s, by status',
    `${overload.callsPerSecond}, ${JSON.stringify(overload.statuses ?? {})}`,
  )
  row(
    'overload',
    'p50 / p99 / max of all answers',
    `${ms(overload.p50Ms)} / ${ms(overload.p99Ms)} / ${ms(overload.maxMs)}`,
  )
  row('overload', 'socket errors', String(overload.socketErrors))
  target('overload p99 ≤ 50 ms', overload.p99Ms <= 50, ms(overload.p99Ms))
  target('overload: 0 socket errors', overload.socketErrors === 0, String(overload.socketErrors))
  if (accept) {
    const toAccept = overload.acceptedPerSecond / accept.callsPerSecond
    row('ratio', 'overload 202/s / accept', `${round(toAccept)}×`)
    target('overload 202/s ≥ 0.9× accept', toAccept >= 0.9, `${round(toAccept)}×`)
  }
}
const burst = await step('burst', () => benchBurst(settings))
if (burst) {
  row(
    'burst',
    'calls sent / seconds / calls/s',
    `${burst.calls} / ${burst.seconds} s / ${burst.callsPerSecond}`,
  )
  row('burst', 'answers by status', JSON.stringify(burst.answers))
  row('burst', 'deployments created', String(burst.deploymentsCreated))
  row('burst', 'calls recorded', String(burst.callsRecorded))
  target('burst ≤ 2 deployments', burst.deploymentsCreated <= 2, String(burst.deploymentsCreated))
  target(
    'burst records every call',
    burst.callsRecorded === burst.calls,
    `${burst.callsRecorded} of ${burst.calls}`,
  )
}
const scale = await step('scale', () => benchScale(settings))
if (scale) {
  row('scale', `calls/s, ${scale.services} services, random`, String(scale.callsPerSecond))
  row('scale', 'p50 / p99 / max', `${ms(scale.p50Ms)} / ${ms(scale.p99Ms)} / ${ms(scale.maxMs)}`)
  row('scale', 'non-2xx answers, socket errors', `${scale.non2xx}, ${scale.socketErrors}`)
  row('scale', 'server CPU per call', `${scale.serverCpuUsPerCall} µs`)
  row(
    'scale',
    'server RSS idle / after / peak',
    `${scale.idleRssMb} / ${scale.rssMb} / ${scale.peakRssMb} MB`,
  )
  target('RSS ≤ 150 MB with 10,000 services', scale.peakRssMb <= 150, `peak ${scale.peakRssMb} MB`)
  if (peer) {
    row(
      'ratio',
      'scale / node:http ceiling',
      `${round(scale.callsPerSecond / peer.ceiling.callsPerSecond)}×`,
    )
  }
}
const e2e = await step('end-to-end', () => benchEndToEnd(settings))
if (e2e) {
  for (const [name, r] of Object.entries(e2e)) {
    row(
      'end-to-end',
      `${name}: median / p99 (${r.calls} calls)`,
      `${ms(r.medianMs)} / ${ms(r.p99Ms)}${r.failures ? `, ${r.failures} not succeeded` : ''}`,
    )
  }
}

const docker = await step('docker', () => benchDocker(settings))
if (docker && 'skipped' in docker) {
  process.stderr.write(`\n!!! bench: SKIPPING the docker scenario: ${docker.skipped}\n\n`)
  row('docker', 'SKIPPED', docker.skipped)
  target('docker redeploy ≤ 1.10× engine operations', false, `skipped: ${docker.skipped}`)
} else if (docker) {
  row(
    'docker',
    `engine create+start+stop+remove, median ms`,
    `${docker.engineMsPerRedeploy} per replacement`,
  )
  row(
    'docker',
    `Deckhand redeploy (call → succeeded), median ms`,
    `${docker.deckhandMsPerRedeploy} per redeploy (${docker.redeploys})`,
  )
  row('docker', 'of which the deployment ran, ms', String(docker.deploymentMsPerRedeploy))
  row('ratio', 'Deckhand redeploy / engine operations', `${docker.ratio}×`)
  target('docker redeploy ≤ 1.10× engine operations', docker.ratio <= 1.1, `${docker.ratio}×`)
}

process.stdout.write('\nTargets\n')
for (const t of targets) {
  process.stdout.write(`  ${t.met ? 'met    ' : 'NOT MET'}  ${t.name.padEnd(46)} ${t.detail}\n`)
}
const dir = join(import.meta.dirname, 'results')
mkdirSync(dir, { recursive: true })
const file = join(
  dir,
  `bench-${quick ? 'quick' : 'full'}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
)
writeFileSync(
  file,
  JSON.stringify(
    {
      at: new Date().toISOString(),
      quick,
      machine,
      loadGenerator,
      settings,
      results,
      targets,
      rows,
    },
    null,
    2,
  ) + '\n',
)
process.stdout.write(`\nwritten to ${file}\n`)
