/** `/hooks/<token>` with the token replaced, for anything that logs a URL: a trigger's URL is its secret. */
export function redactUrl(url: string): string {
  const redacted = url.replace(/\/hooks\/[^/?#]*/, '/hooks/[redacted]')
  // A query string pasted into a sender travels with the secret URL, and senders put
  // credentials there too: a hook's query is logged by parameter name only (the recorded
  // call keeps what Deckhand used).
  return redacted === url ? url : redacted.replace(/([?&][^=&#]*)=[^&#]*/g, '$1=…')
}

/**
 * A URL as listings show it, or undefined when it carries no credentials: userinfo
 * (`https://user:token@host`) and a Slack webhook's path (`hooks.slack.com/services/…`, the
 * path is the credential) are cut out.
 */
export function withoutCredentials(url: string): string | undefined {
  if (!URL.canParse(url)) {
    return undefined
  }
  const parsed = new URL(url)
  const userinfo = parsed.username !== '' || parsed.password !== ''
  const slack = parsed.hostname === 'hooks.slack.com' && parsed.pathname.startsWith('/services/')
  if (!userinfo && !slack) {
    return undefined
  }
  parsed.username = ''
  parsed.password = ''
  if (slack) {
    parsed.pathname = '/services/[redacted]'
  }
  return parsed.href
}
