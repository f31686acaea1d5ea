// Sign-in with an admin token; the token is checked against the API before it is kept.
import { type FormEvent, useState } from 'react'

import { ApiError, apiFetch, errorText } from './api.ts'

/**
 * `deckhand token create` needs a working token itself: name where the first one comes from,
 * and the way back in when it is lost (a token given by DECKHAND_ADMIN_TOKEN is added at start).
 */
const FIRST_TOKEN_HINT =
  'That admin token was not accepted. Check for a missing character. The first token is the one ' +
  'Deckhand printed when it first started, or the DECKHAND_ADMIN_TOKEN it runs with; if it is lost, ' +
  'restart Deckhand with DECKHAND_ADMIN_TOKEN set to a new secret and sign in with that. Signed in, ' +
  'deckhand token create makes more.'

export function SignIn({
  notice,
  onSignedIn,
}: {
  notice?: string
  onSignedIn: (token: string) => void
}) {
  const [token, setToken] = useState('')
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    const value = token.trim()
    if (!value) {
      setError('Paste an admin token first.')
      return
    }
    setBusy(true)
    setError(undefined)
    try {
      await apiFetch('/services?limit=1', {}, value)
      onSignedIn(value)
    } catch (caught) {
      setError(
        caught instanceof ApiError && caught.status === 401
          ? FIRST_TOKEN_HINT
          : `Could not reach Deckhand: ${errorText(caught)}`,
      )
      setBusy(false)
    }
  }

  return (
    <main className="signin">
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to Deckhand</h1>
        <p className="muted">
          Use an admin token: the one Deckhand printed on its first start,{' '}
          <code>DECKHAND_ADMIN_TOKEN</code>, or one from <code>deckhand token create</code>. It is
          kept in this tab only.
        </p>
        {notice && !error && <p className="notice">{notice}</p>}
        <label htmlFor="token">Admin token</label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'signin-error' : undefined}
          autoFocus
        />
        {error && (
          <p id="signin-error" className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  )
}
