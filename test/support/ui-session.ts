/**
 * The UI tests' shared setup: one Chromium per test file (skipped without it), and a page signed
 * in to a fresh server that holds the services a test starts from.
 */
import assert from 'node:assert/strict'
import { after, before, type TestContext } from 'node:test'

import type { Browser } from 'playwright-core'

import {
  browserSkipReason,
  buildWebIfStale,
  launchBrowser,
  openPage,
  signIn,
  type WatchedPage,
} from './browser.ts'
import { startTestServer, type TestServer } from './start-server.ts'

type Viewport = { width: number; height: number }

/**
 * Registers the file's before and after hooks: web/ built when stale, Chromium launched once
 * and closed at the end. `browser()` is for tests that do not run when `skip` is set.
 */
export function useBrowser(): { skip: string | undefined; browser: () => Browser } {
  const skip = browserSkipReason()
  let browser: Browser | undefined
  before(async () => {
    buildWebIfStale()
    if (!skip) {
      browser = await launchBrowser()
    }
  })
  after(async () => {
    await browser?.close()
  })
  return { skip, browser: () => browser! }
}

/** A page of `server`, signed in with its admin token; its context closes with the test. */
export async function openSignedIn(
  t: TestContext,
  browser: Browser,
  server: TestServer,
  viewport?: Viewport,
): Promise<WatchedPage> {
  const watched = await openPage(browser, server.url, viewport)
  t.after(() => watched.context.close())
  await signIn(watched.page, server)
  return watched
}

/** A fresh server with `services` created through the API, and a page signed in to it. */
export async function uiSession(
  t: TestContext,
  browser: Browser,
  options: {
    services?: Record<string, unknown>[]
    server?: Parameters<typeof startTestServer>[1]
    viewport?: Viewport
  } = {},
): Promise<WatchedPage & { server: TestServer }> {
  const server = await startTestServer(t, options.server)
  for (const spec of options.services ?? []) {
    const created = await server.api('POST', '/api/v1/services', spec)
    assert.equal(created.status, 201, JSON.stringify(created.body))
  }
  return { server, ...(await openSignedIn(t, browser, server, options.viewport)) }
}
