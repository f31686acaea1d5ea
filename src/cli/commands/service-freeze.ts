/**
 * `deckhand service freeze|unfreeze <name>`: hold every new deployment of a service (calls are
 * still recorded and answered 202 held) until the freeze ends or is lifted.
 */
import type { Command } from 'commander'

import { clientFor, emit, encode, type GlobalFlags, withGlobalFlags } from '../command-kit.ts'
import type { CliIo } from '../output.ts'

interface FrozenView {
  name: string
  freeze?: { until: string | null; message: string; by: string; at: string }
}

interface FreezeFlags extends GlobalFlags {
  until?: string
  message?: string
}

export function registerServiceFreezeCommands(service: Command, io: CliIo): void {
  withGlobalFlags(
    service
      .command('freeze')
      .argument('<name>')
      .description('hold every new deployment of a service until it is unfrozen or --until')
      .option('--until <when>', 'a duration such as 2h, or an ISO time; none: until unfrozen')
      .option('--message <text>', 'why, shown to callers and in the UI (at most 500 characters)'),
  ).action(async (name: string, flags: FreezeFlags) => {
    const frozen = await clientFor(flags, io).request<FrozenView>(
      `/api/v1/services/${encode(name)}/freeze`,
      {
        method: 'POST',
        body: { until: flags.until ?? null, message: flags.message ?? 'frozen from the CLI' },
      },
    )
    emit(io, flags, frozen, (s) =>
      s.freeze
        ? `froze ${s.name} ${s.freeze.until ? `until ${s.freeze.until}` : 'until unfrozen'}: ` +
          `${s.freeze.message}\n`
        : `service ${s.name} is not frozen (the end given has passed)\n`,
    )
  })

  withGlobalFlags(
    service
      .command('unfreeze')
      .argument('<name>')
      .description(
        'lift a freeze: held deployments start, unless a change window still holds them',
      ),
  ).action(async (name: string, flags: GlobalFlags) => {
    const view = await clientFor(flags, io).request<FrozenView>(
      `/api/v1/services/${encode(name)}/freeze`,
      { method: 'DELETE' },
    )
    emit(io, flags, view, (s) => `unfroze ${s.name}\n`)
  })
}
