// Shows a trigger URL the one time the API returns it: copy it, a curl line, a test call, setup help.
import { useRef, useState } from 'react'

import { Dialog } from './Dialog.tsx'
import { Link } from './router.tsx'
import { curlLine, SenderHelp } from './SenderHelp.tsx'
import { SubsetNote } from './TriggerForm.tsx'

interface TestAnswer {
  status: number
  text: string
  deployments: string[]
}

/**
 * POSTs to the trigger's path on this page's origin: the same server, and the only origin the
 * UI's Content-Security-Policy lets it call (the public URL may name a proxy in front).
 */
async function testCall(url: string): Promise<TestAnswer> {
  const response = await fetch(new URL(url).pathname, { method: 'POST' })
  const text = await response.text()
  let deployments: string[] = []
  try {
    const body = JSON.parse(text) as { deployments?: { id: string }[] }
    deployments = (body.deployments ?? []).map((d) => d.id)
  } catch {
    // Not JSON: shown as it came.
  }
  return { status: response.status, text, deployments }
}

export function UrlDialog({
  name,
  url,
  sender,
  hasSecret,
  stack,
  onClose,
}: {
  name: string
  url: string
  sender: string
  hasSecret: boolean
  /** Set for a stack trigger: the dialog then says how to call it for some services only. */
  stack?: { name: string; members: string[] }
  onClose: () => void
}) {
  const input = useRef<HTMLInputElement>(null)
  const [copied, setCopied] = useState<string>()
  const [answer, setAnswer] = useState<TestAnswer>()
  const [testError, setTestError] = useState<string>()
  const [testing, setTesting] = useState(false)

  const test = async () => {
    setTesting(true)
    setTestError(undefined)
    try {
      setAnswer(await testCall(url))
    } catch (caught) {
      setAnswer(undefined)
      setTestError(`The call did not get an answer: ${(caught as Error).message}`)
    } finally {
      setTesting(false)
    }
  }

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url)
      setCopied('Copied to the clipboard.')
    } catch {
      // Clipboard access needs a secure context or a permission; selecting lets Ctrl+C work.
      input.current?.select()
      setCopied(
        'The browser refused clipboard access: the URL is selected, press Ctrl+C (⌘C) to copy it.',
      )
    }
  }

  return (
    <Dialog title={`URL of trigger ${name}`} onClose={onClose}>
      <p className="warning" role="note">
        This URL is shown once. Deckhand keeps only a hash of it, so copy it now; if it is lost,
        rotate the trigger to get a new one.
      </p>
      <label htmlFor="trigger-url">Trigger URL</label>
      <div className="copy-row">
        <input
          id="trigger-url"
          ref={input}
          readOnly
          value={url}
          onFocus={(e) => e.target.select()}
          spellCheck={false}
        />
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
      </div>
      {stack && <SubsetNote stack={stack.name} members={stack.members} />}
      <p role="status" className="muted">
        {copied ?? ''}
      </p>
      <label htmlFor="trigger-curl">Call it with curl</label>
      <pre id="trigger-curl" className="snippet" data-testid="curl-line">
        {curlLine(url, hasSecret)}
      </pre>
      <div className="test-row">
        <button type="button" className="secondary" onClick={() => void test()} disabled={testing}>
          {testing ? 'Testing…' : 'Test'}
        </button>
        <span className="hint">
          Sends one empty POST now, as curl would: a real call that deploys when it is accepted.
          {hasSecret &&
            ' It is unsigned, so this trigger answers 401: proof that it checks its secret.'}
        </span>
      </div>
      {testError && (
        <p className="error" role="alert">
          {testError}
        </p>
      )}
      {answer && (
        <div className="test-answer" data-testid="test-answer" role="status">
          <strong>Answer {answer.status}</strong>
          <pre className="snippet">{answer.text}</pre>
          {answer.deployments.map((id) => (
            <Link key={id} to={`/deployments/${id}`} className="mono block">
              {id}
            </Link>
          ))}
        </div>
      )}
      <SenderHelp sender={sender} url={url} hasSecret={hasSecret} />
      <div className="buttons">
        <button type="button" className="secondary" onClick={onClose}>
          Done
        </button>
      </div>
    </Dialog>
  )
}
