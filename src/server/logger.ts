/**
 * The server's logger: human lines on a terminal (time, level, message, then the key fields on
 * the same line), JSON Lines when stdout is not a terminal or DECKHAND_LOG_FORMAT=json, so log
 * collectors get JSON and people get sentences.
 */
import pino, { type Logger } from 'pino'
import pretty from 'pino-pretty'

export type LogFormat = 'pretty' | 'json'

export const LOG_FORMATS: readonly LogFormat[] = ['pretty', 'json']

/** The format to use: the setting when given, else pretty on a terminal and JSON elsewhere. */
export function logFormatFor(setting: LogFormat | undefined, stdoutIsTty: boolean): LogFormat {
  return setting ?? (stdoutIsTty ? 'pretty' : 'json')
}

export function createLogger(options: {
  level: string
  format: LogFormat
  destination?: NodeJS.WritableStream
  colorize?: boolean
}): Logger {
  const destination = options.destination ?? process.stdout
  if (options.format === 'json') {
    return options.destination
      ? pino({ level: options.level }, destination)
      : pino({ level: options.level })
  }
  // Synchronous: a line written just before the process exits (a refused start) is not lost,
  // and no worker thread is started for a terminal's few lines a second.
  const stream = pretty({
    destination,
    sync: true,
    colorize: options.colorize ?? (destination === process.stdout && process.stdout.isTTY === true),
    singleLine: true,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'pid,hostname',
  })
  return pino({ level: options.level }, stream)
}
