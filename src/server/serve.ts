/** `deckhand serve`: reads settings, starts the server, and stops it cleanly on SIGTERM/SIGINT. */
import { ConfigApplyError } from '../config/config-apply.ts'
import { ConfigFileError } from '../config/config-file.ts'
import { ListenError } from './listen-address.ts'
import { createLogger, logFormatFor } from './logger.ts'
import { readSettings, SettingsError } from './settings.ts'
import { serveHelp } from './settings-catalogue.ts'
import { startServer } from './start-server.ts'

export async function serve(argv: string[]): Promise<number> {
  const flags: { listen?: string; config?: string } = {}
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!
    const [name, inline] = arg.split(/=(.*)/s, 2)
    const value = inline ?? argv[i + 1]
    if (name === '--listen' || name === '--config') {
      if (value === undefined) {
        process.stderr.write(`deckhand serve: ${name} needs a value\n`)
        return 2
      }
      flags[name === '--listen' ? 'listen' : 'config'] = value
      if (inline === undefined) {
        i += 1
      }
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(serveHelp())
      return 0
    } else {
      process.stderr.write(`deckhand serve: unknown option ${arg}; see deckhand serve --help\n`)
      return 2
    }
  }
  let settings
  try {
    settings = readSettings(process.env, flags)
  } catch (error) {
    if (error instanceof SettingsError) {
      process.stderr.write(`deckhand: ${error.message}\n`)
      return 2
    }
    throw error
  }
  const logger = createLogger({
    level: settings.logLevel,
    format: logFormatFor(settings.logFormat, process.stdout.isTTY === true),
  })
  let server
  try {
    server = await startServer(settings, logger)
  } catch (error) {
    if (error instanceof ConfigFileError || error instanceof ConfigApplyError) {
      process.stderr.write(
        `deckhand: refusing to start, the config file is wrong:\n${error.message}\n`,
      )
      return 2
    }
    if (error instanceof ListenError) {
      process.stderr.write(`deckhand: ${error.message}\n`)
      return 1
    }
    throw error
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info(
        { signal },
        'shutting down: no new calls; running deployments get the grace period',
      )
      server.close().then(resolve, (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed')
        resolve()
      })
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
  return 0
}
