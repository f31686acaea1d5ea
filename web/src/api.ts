// The admin API client: bearer token from sessionStorage, `{error}` bodies become ApiErrors.

const TOKEN_KEY = 'deckhand.adminToken'

/** One field the API refused: `path` is the field's place in the body, e.g. `['scale', 'max']`. */
export interface Problem {
  path: (string | number)[]
  message: string
}

export class ApiError extends Error {
  readonly status: number
  readonly problems: Problem[]
  constructor(status: number, message: string, problems: Problem[] = []) {
    super(message)
    this.status = status
    this.problems = problems
  }
}

export function readToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY)
}

export function saveToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token)
}

export function clearToken(): void {
  sessionStorage.removeItem(TOKEN_KEY)
}

type UnauthorizedListener = () => void
let onUnauthorized: UnauthorizedListener = () => {}

/** The app signs out when any call answers 401: the token was revoked or mistyped. */
export function setUnauthorizedListener(listener: UnauthorizedListener): void {
  onUnauthorized = listener
}

export async function apiFetch(
  path: string,
  init: RequestInit = {},
  token = readToken(),
): Promise<Response> {
  const headers = new Headers(init.headers)
  if (token) {
    headers.set('authorization', `Bearer ${token}`)
  }
  if (init.body !== undefined) {
    headers.set('content-type', 'application/json')
  }
  const response = await fetch(`/api/v1${path}`, { ...init, headers })
  if (response.ok) {
    return response
  }
  const text = await response.text()
  let message = `${response.status} ${response.statusText}`
  let problems: Problem[] = []
  try {
    const body = JSON.parse(text) as { error?: string; problems?: Problem[] }
    message = body.error ?? message
    problems = Array.isArray(body.problems) ? body.problems : []
  } catch {
    // A proxy's HTML error page: keep the status line.
  }
  // A token being tried at sign-in is not the session's token: its 401 is the form's to show.
  if (response.status === 401 && token !== null && token === readToken()) {
    onUnauthorized()
  }
  throw new ApiError(response.status, message, problems)
}

export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await apiFetch(path, init)
  return response.status === 204 ? (undefined as T) : ((await response.json()) as T)
}

export function post<T>(path: string, body?: unknown): Promise<T> {
  return api<T>(path, {
    method: 'POST',
    body: body === undefined ? undefined : JSON.stringify(body),
  })
}

/** A JSON merge patch (RFC 7396): fields left out stay as they are. */
export function patch<T>(path: string, body: unknown): Promise<T> {
  return api<T>(path, { method: 'PATCH', body: JSON.stringify(body) })
}

export function remove(path: string): Promise<void> {
  return api<void>(path, { method: 'DELETE' })
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
