/**
 * Serves the built web UI (web/dist) at `/`: hashed assets cached for good, index.html never.
 * Which file answers a path is decided here (client routes get index.html); @fastify/static
 * sends it (types, ETag, ranges, HEAD, its own guard against paths leaving the folder).
 */
import { stat } from 'node:fs/promises'
import { extname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

import fastifyStatic from '@fastify/static'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

import { redactUrl } from './redact-url.ts'

export interface WebUiOptions {
  /** The folder `vite build` wrote; when it is missing, `/` says how to build it. */
  distDir: string
}

/** Where `npm run build:web` writes, relative to this file so it works from any cwd. */
export const WEB_DIST_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url))

// Paths other parts of the server own: an unknown one there must stay a JSON 404, not the UI.
const SERVER_PREFIXES = ['/api/', '/hooks/']

/**
 * Sent with every answer of the UI. The page loads its script, styles and data from this
 * origin only, so an injected tag can neither run nor send the admin token elsewhere; `data:`
 * images are the inline favicon of index.html. No page may frame it (clickjacking), types are
 * not sniffed, and no Referer carries a path out.
 */
export const WEB_UI_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
})

// Vite puts a content hash in every name under assets/, so a name never changes meaning.
const IMMUTABLE = 'public, max-age=31536000, immutable'

export async function webUi(app: FastifyInstance, { distDir }: WebUiOptions): Promise<void> {
  const root = resolve(distDir)
  // This plugin is its own Fastify context, so the hook covers the UI's answers only.
  app.addHook('onSend', async (_request, reply) => {
    void reply.headers(WEB_UI_HEADERS)
  })
  await app.register(fastifyStatic, {
    root,
    // Only reply.sendFile(): the routes below choose the file, so client routes get the page.
    serve: false,
    index: false,
    // Set in setHeaders instead: @fastify/send's own would be `public, max-age=0`.
    cacheControl: false,
    // It warns on stderr when web/dist is missing; the 503 below says it to whoever asks.
    suppressWarning: true,
    setHeaders(reply, path) {
      const assets = relative(root, path).startsWith(`assets${sep}`)
      void reply.header('cache-control', assets ? IMMUTABLE : 'no-cache')
      // @fastify/send's mime table still names JavaScript by its obsolete application/ type.
      if (path.endsWith('.js')) {
        void reply.header('content-type', 'text/javascript; charset=utf-8')
      }
    },
  })

  /** Whether `path` (already normalised, from the root) is a file inside the root. */
  async function isFileInside(path: string): Promise<boolean> {
    const file = resolve(root, `.${path}`)
    // resolve() folds `..` away, so anything that ends up outside the root was a traversal.
    if (!file.startsWith(root + sep)) {
      return false
    }
    try {
      return (await stat(file)).isFile()
    } catch {
      return false
    }
  }

  async function sendIndex(reply: FastifyReply) {
    if (!(await isFileInside('/index.html'))) {
      return reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .header('cache-control', 'no-cache')
        .send('The web UI is not built. Run `npm run build:web`, then reload this page.\n')
    }
    return reply.sendFile('index.html')
  }

  async function serve(request: FastifyRequest, reply: FastifyReply) {
    const path = decodePath(request.url)
    if (path === undefined) {
      return reply.status(400).send({ error: 'the path is not valid URL encoding' })
    }
    if (SERVER_PREFIXES.some((prefix) => path.startsWith(prefix))) {
      // Under /hooks/ the path holds the trigger's token: the answer must not quote it.
      return reply.status(404).send({
        error: `${request.method} ${redactUrl(path)} does not exist`,
        code: 'DH_ERR_NOT_FOUND',
      })
    }
    if (path.startsWith('/assets/')) {
      if (!(await isFileInside(path))) {
        return reply.status(404).type('text/plain; charset=utf-8').send('not found\n')
      }
      return reply.sendFile(path.slice(1))
    }
    const ext = extname(path)
    if (ext && ext !== '.html' && (await isFileInside(path))) {
      return reply.sendFile(path.slice(1))
    }
    // Client-side routes (/services/web, /services/my.app) all load the same page; service
    // names may hold a dot, so a missing "file" is a route, not a 404.
    return sendIndex(reply)
  }

  app.get('/', serve)
  app.get('/*', serve)
}

function decodePath(url: string): string | undefined {
  const raw = url.split('?')[0] ?? '/'
  try {
    const path = decodeURIComponent(raw)
    return path.includes('\0') ? undefined : join('/', path)
  } catch {
    return undefined
  }
}
