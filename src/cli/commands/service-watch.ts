/** `deckhand service watch <name>`: a service's registry watch, its last check and the next. */
import type { Command } from 'commander'

import { clientFor, encode, type GlobalFlags, withGlobalFlags } from '../command-kit.ts'
import { type CliIo, formatAge, formatTable } from '../output.ts'
import { showOrWatch, type WatchFlags, withWatch } from '../watch.ts'

/** GET /api/v1/services/{name}/watch. */
export interface ServiceWatchView {
  service: string
  watch: { interval: string; tags: string } | null
  lastCheck: {
    checkedAt: string
    outcome: string
    answer: string
    tag: string | null
    digest: string | null
  } | null
  nextAt: string | null
}

/** `in 25s`, `in 4m`: how far ahead the next check is. */
function formatIn(iso: string | null, now: number): string {
  if (!iso) {
    return '-'
  }
  const seconds = Math.round((Date.parse(iso) - now) / 1000)
  if (Number.isNaN(seconds)) {
    return iso
  }
  if (seconds <= 0) {
    return 'due'
  }
  return seconds < 120 ? `in ${seconds}s` : `in ${Math.round(seconds / 60)}m`
}

export function formatServiceWatch(view: ServiceWatchView, now: number, wide: boolean): string {
  if (!view.watch) {
    return `service ${view.service} has no watch; set one with \`deckhand service set ${view.service} watch.interval=5m\`\n`
  }
  const check = view.lastCheck
  return formatTable(
    [view],
    [
      { header: 'SERVICE', value: (v) => v.service },
      { header: 'INTERVAL', value: (v) => v.watch?.interval },
      { header: 'TAGS', value: (v) => v.watch?.tags },
      { header: 'CHECKED', value: () => (check ? formatAge(check.checkedAt, now) : 'not yet') },
      { header: 'OUTCOME', value: () => check?.outcome },
      { header: 'NEXT', value: (v) => formatIn(v.nextAt, now) },
      ...(wide
        ? [
            { header: 'TAG', value: () => check?.tag },
            { header: 'DIGEST', value: () => check?.digest },
          ]
        : []),
      { header: 'ANSWER', value: () => check?.answer },
    ],
  )
}

export function registerServiceWatchCommand(service: Command, io: CliIo): void {
  withWatch(
    withGlobalFlags(
      service
        .command('watch')
        .argument('<name>')
        .description("show a service's registry watch: the last check, its answer, the next"),
    ),
  ).action(async (name: string, flags: GlobalFlags & WatchFlags) => {
    const client = clientFor(flags, io)
    const fetch = () => client.request<ServiceWatchView>(`/api/v1/services/${encode(name)}/watch`)
    await showOrWatch(io, flags, fetch, (view, wide) => formatServiceWatch(view, io.now(), wide))
  })
}
