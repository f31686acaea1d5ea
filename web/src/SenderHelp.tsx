// Where to paste a trigger URL in each sender, field by field, as each sender's own form names them.
import { type ReactNode, useState } from 'react'

export const HELP_SENDERS = [
  'dockerhub',
  'github',
  'gitlab',
  'bitbucket',
  'gitea',
  'registry',
  'alertmanager',
  'curl',
] as const
type HelpSender = (typeof HELP_SENDERS)[number]

const LABELS: Record<HelpSender, string> = {
  dockerhub: 'Docker Hub',
  github: 'GitHub',
  gitlab: 'GitLab',
  bitbucket: 'Bitbucket Cloud',
  gitea: 'Gitea / Forgejo',
  registry: 'CNCF registry (registry:2)',
  alertmanager: 'Alertmanager',
  curl: 'curl in CI',
}

/** The help a trigger's sender points at first; `auto` and `generic` start with curl. */
export function helpFor(sender: string): HelpSender {
  return (HELP_SENDERS as readonly string[]).includes(sender) ? (sender as HelpSender) : 'curl'
}

/** `sha256=<hex>` of the body, as the generic sender checks it; the secret stays in $SECRET. */
export function curlLine(url: string, hasSecret: boolean): string {
  if (!hasSecret) {
    return `curl -fsS -X POST '${url}'`
  }
  return [
    `body='{}'`,
    `sig=$(printf %s "$body" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.* //')`,
    `curl -fsS -X POST -H 'Content-Type: application/json' -H "X-Deckhand-Signature: sha256=$sig" -d "$body" '${url}'`,
  ].join('\n')
}

function Steps({ children }: { children: ReactNode }) {
  return <ol className="help-steps">{children}</ol>
}

function Fill({ field, children }: { field: string; children: ReactNode }) {
  return (
    <li>
      <strong>{field}</strong>: {children}
    </li>
  )
}

function helpBody(kind: HelpSender, url: string, hasSecret: boolean): ReactNode {
  const secret = hasSecret
    ? 'the secret you gave this trigger'
    : 'leave empty (this trigger has no secret)'
  const urlCode = <code className="wrap-anywhere">{url}</code>
  switch (kind) {
    case 'dockerhub':
      return (
        <>
          <p>
            Repository → <em>Webhooks</em>, then fill in and press <em>Create</em>:
          </p>
          <Steps>
            <Fill field="Webhook name">deckhand</Fill>
            <Fill field="Webhook URL">{urlCode}</Fill>
          </Steps>
          <p className="hint">Docker Hub sends no signature: the URL is the secret.</p>
        </>
      )
    case 'github':
      return (
        <>
          <p>
            Repository → <em>Settings</em> → <em>Webhooks</em> → <em>Add webhook</em>:
          </p>
          <Steps>
            <Fill field="Payload URL">{urlCode}</Fill>
            <Fill field="Content type">application/json</Fill>
            <Fill field="Secret">{secret}</Fill>
            <Fill field="Which events">
              <em>Just the push event</em>, or pick <em>Packages</em> or <em>Workflow runs</em>
            </Fill>
          </Steps>
        </>
      )
    case 'gitlab':
      return (
        <>
          <p>
            Project → <em>Settings</em> → <em>Webhooks</em> → <em>Add new webhook</em>:
          </p>
          <Steps>
            <Fill field="URL">{urlCode}</Fill>
            <Fill field="Secret token">{secret}</Fill>
            <Fill field="Trigger">
              <em>Push events</em>, <em>Tag push events</em> or <em>Pipeline events</em>
            </Fill>
          </Steps>
        </>
      )
    case 'bitbucket':
      return (
        <>
          <p>
            Repository → <em>Repository settings</em> → <em>Webhooks</em> → <em>Add webhook</em>:
          </p>
          <Steps>
            <Fill field="Title">deckhand</Fill>
            <Fill field="URL">{urlCode}</Fill>
            <Fill field="Secret">{secret}</Fill>
            <Fill field="Triggers">
              <em>Repository push</em>
            </Fill>
          </Steps>
        </>
      )
    case 'gitea':
      return (
        <>
          <p>
            Repository → <em>Settings</em> → <em>Webhooks</em> → <em>Add webhook</em> →{' '}
            <em>Gitea</em> (or <em>Forgejo</em>):
          </p>
          <Steps>
            <Fill field="Target URL">{urlCode}</Fill>
            <Fill field="HTTP method">POST</Fill>
            <Fill field="POST content type">application/json</Fill>
            <Fill field="Secret">{secret}</Fill>
            <Fill field="Trigger on">
              <em>Push events</em>
            </Fill>
          </Steps>
        </>
      )
    case 'registry':
      return (
        <>
          <p>
            In the registry's <code>config.yml</code> (Debian's{' '}
            <code>/etc/docker/registry/config.yml</code>), then restart it. Pull events are ignored
            by Deckhand; leaving them out saves calls.
          </p>
          <pre className="snippet">
            {[
              'notifications:',
              '  endpoints:',
              '    - name: deckhand',
              `      url: ${url}`,
              ...(hasSecret
                ? ['      headers:', '        Authorization: [Bearer <the trigger secret>]']
                : []),
              '      timeout: 5s',
              '      threshold: 5',
              '      backoff: 10s',
              '      ignore:',
              '        actions: [pull]',
            ].join('\n')}
          </pre>
        </>
      )
    case 'alertmanager':
      return (
        <>
          <p>
            In <code>alertmanager.yml</code>, a receiver your route sends the alert to; Alertmanager
            then calls the trigger once per group, firing and resolved:
          </p>
          <pre className="snippet">
            {[
              'receivers:',
              '  - name: deckhand',
              '    webhook_configs:',
              `      - url: ${url}`,
              '        send_resolved: true',
              ...(hasSecret
                ? [
                    '        http_config:',
                    '          authorization:',
                    '            credentials: <the trigger secret>',
                  ]
                : []),
            ].join('\n')}
          </pre>
        </>
      )
    case 'curl':
      return (
        <>
          <p>
            As the last step of a CI job, with the URL kept in a CI secret variable (here{' '}
            <code>DECKHAND_URL</code>){hasSecret ? ' and the trigger secret in SECRET' : ''}. Add{' '}
            <code>?tag=1.2.3</code> to deploy a tag, when the trigger allows it.
          </p>
          <pre className="snippet">
            {curlLine('$DECKHAND_URL', hasSecret).replace(/'\$DECKHAND_URL'/, '"$DECKHAND_URL"')}
          </pre>
        </>
      )
  }
}

export function SenderHelp({
  sender,
  url,
  hasSecret,
}: {
  sender: string
  url: string
  hasSecret: boolean
}) {
  const [kind, setKind] = useState<HelpSender>(helpFor(sender))
  return (
    <section className="sender-help" aria-label="Set up the sender">
      <div className="field">
        <label htmlFor="help-sender">Set it up in</label>
        <select
          id="help-sender"
          value={kind}
          onChange={(e) => setKind(e.target.value as HelpSender)}
        >
          {HELP_SENDERS.map((k) => (
            <option key={k} value={k}>
              {LABELS[k]}
            </option>
          ))}
        </select>
      </div>
      <div data-testid="sender-help">{helpBody(kind, url, hasSecret)}</div>
    </section>
  )
}
