/** Serves the built web UI (web/dist) at `/`: hashed assets cached for good, index.html never. */
import { readFile, stat } from 'node:fs/promises'
import { extname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

import { redactUrl } from './redact-url.ts'

export interface WebUiOptions {
  /** The folder `vite build` wrote; when it is missing, `/` says how to build it. */
  distDir: string
}

/** Where `npm run build:web` writes, relative to this file so it works from any cwd. */
export const WEB_DIST_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url))

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
}

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

export async function webUi(app: FastifyInstance, { distDir }: WebUiOptions): Promise<void> {
  const root = resolve(distDir)
  // This plugin is its own Fastify context, so the hook covers the UI's answers only.
  app.addHook('onSend', async (_request, reply) => {
    void reply.headers(WEB_UI_HEADERS)
  })

  async function readInside(relative: string): Promise<Buffer | undefined> {
    const file = resolve(root, relative)
    // resolve() folds `..` away, so anything that ends up outside the root was a traversal.
    if (file !== root && !file.startsWith(root + sep)) {
      return undefined
    }
    try {
      if (!(await stat(file)).isFile()) {
        return undefined
      }
      return await readFile(file)
    } catch {
      return undefined
    }
  }

  async function sendIndex(reply: FastifyReply) {
    const html = await readInside('index.html')
    if (!html) {
      return reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .header('cache-control', 'no-cache')
        .send('The web UI is not built. Run `npm run build:web`, then reload this page.\n')
    }
    return reply.type(CONTENT_TYPES['.html']!).header('cache-control', 'no-cache').send(html)
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
      const body = await readInside(path.slice(1))
      if (!body) {
        return reply.status(404).type('text/plain; charset=utf-8').send('not found\n')
      }
      // Vite puts a content hash in every asset name, so a name never changes meaning.
      return reply
        .type(CONTENT_TYPES[extname(path)] ?? 'application/octet-stream')
        .header('cache-control', 'public, max-age=31536000, immutable')
        .send(body)
    }
    const ext = extname(path)
    const file = ext && ext !== '.html' ? await readInside(path.slice(1)) : undefined
    if (file) {
      return reply
        .type(CONTENT_TYPES[ext] ?? 'application/octet-stream')
        .header('cache-control', 'no-cache')
        .send(file)
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
