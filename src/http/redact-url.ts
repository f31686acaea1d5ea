/** `/hooks/<token>` with the token replaced, for anything that logs a URL: a trigger's URL is its secret. */
export function redactUrl(url: string): string {
  const redacted = url.replace(/\/hooks\/[^/?#]*/, '/hooks/[redacted]')
  // A query string pasted into a sender travels with the secret URL, and senders put
  // credentials there too: a hook's query is logged by parameter name only (the recorded
  // call keeps what Deckhand used).
  return redacted === url ? url : redacted.replace(/([?&][^=&#]*)=[^&#]*/g, '$1=…')
}
