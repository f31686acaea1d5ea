/**
 * Debian's Chromium driven by playwright-core for the UI tests: launch, pages that record
 * console errors, screenshots under test-output/ui/, and a fresh build of web/ when stale.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'

import { isRequired } from './required-parts.ts'

export const CHROMIUM_PATH = '/usr/bin/chromium'
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const SCREENSHOT_DIR = join(ROOT, 'test-output', 'ui')

/**
 * The reason to skip the UI tests, or undefined when they can run. A missing browser is said
 * out loud on stderr; with DECKHAND_TEST_REQUIRE=browser it throws instead, so CI cannot pass
 * without having run them.
 */
export function browserSkipReason(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) {
    return undefined
  }
  const reason = `${CHROMIUM_PATH} is missing (apt-get install -y chromium)`
  if (isRequired('browser')) {
    throw new Error(`DECKHAND_TEST_REQUIRE includes browser, but ${reason}`)
  }
  process.stderr.write(`\n!!! SKIPPING the UI tests: ${reason} !!!\n\n`)
  return reason
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-gpu',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
}

export interface WatchedPage {
  page: Page
  context: BrowserContext
  /** Console errors and uncaught exceptions, as text; tests fail when one is unexpected. */
  errors: string[]
}

export async function openPage(
  browser: Browser,
  baseURL: string,
  viewport = { width: 1280, height: 800 },
): Promise<WatchedPage> {
  const context = await browser.newContext({ baseURL, viewport })
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL })
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  const errors: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error') {
      errors.push(message.text())
    }
  })
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`))
  return { page, context, errors }
}

/** Signs in with the server's admin token and waits for the services list. */
export async function signIn(page: Page, server: { token: string }): Promise<void> {
  await page.goto('/')
  await page.getByLabel('Admin token').fill(server.token)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: 'Services', exact: true }).waitFor()
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  const path = join(SCREENSHOT_DIR, `${name}.png`)
  await page.screenshot({ path, fullPage: true })
  return path
}

/** How many pixels the page is wider than its viewport; 0 when only tables scroll sideways. */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth))
}

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs)
    }
  }
  return newest
}

/** Builds web/ with this Node (system node is too old for Vite 8) unless web/dist is current. */
export function buildWebIfStale(): void {
  const index = join(ROOT, 'web', 'dist', 'index.html')
  const sources = Math.max(
    newestMtime(join(ROOT, 'web', 'src')),
    // The closed lists and defaults the bundle takes from the server's model.
    statSync(join(ROOT, 'src', 'model', 'index.ts')).mtimeMs,
    statSync(join(ROOT, 'web', 'index.html')).mtimeMs,
  )
  if (existsSync(index) && statSync(index).mtimeMs >= sources) {
    return
  }
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      '--config',
      'web/vite.config.ts',
      '--logLevel',
      'warn',
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  )
}
