// Shows a trigger URL the one time the API returns it, with a copy button.
import { useRef, useState } from 'react'
import { Dialog } from './Dialog.tsx'
import { SubsetNote } from './TriggerForm.tsx'

export function UrlDialog({
  name,
  url,
  stack,
  onClose,
}: {
  name: string
  url: string
  /** Set for a stack trigger: the dialog then says how to call it for some services only. */
  stack?: { name: string; members: string[] }
  onClose: () => void
}) {
  const input = useRef<HTMLInputElement>(null)
  const [copied, setCopied] = useState<string>()

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
      <div className="buttons">
        <button type="button" className="secondary" onClick={onClose}>
          Done
        </button>
      </div>
    </Dialog>
  )
}
