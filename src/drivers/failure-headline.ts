/**
 * The first sentence of a failed deployment's error, for one log line. Drivers quote a failed
 * instance's output after a lead-in ("; its last output:", docker's "; its last log lines:");
 * the output itself was streamed into the log already, so the line ends before the lead-in
 * instead of on a colon with nothing after it.
 */
export function failureHeadline(error: string): string {
  return (error.split('\n')[0] ?? '').replace(/;? *its last (output|log lines):$/, '')
}
