/** The web UI in real Chromium against a real server: sign-in, triggers, live logs, revoke. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import Fastify from 'fastify'

import { WEB_DIST_DIR, webUi } from '../../src/http/web-ui.ts'
import { openPage, screenshot, signIn } from '../support/browser.ts'
import { commandService, startTestServer } from '../support/start-server.ts'
import { openSignedIn, useBrowser } from '../support/ui-session.ts'
import { waitFor } from '../support/wait-for.ts'

const { skip, browser } = useBrowser()

test('a wrong admin token shows the sign-in error and signs nobody in', { skip }, async (t) => {
  const server = await startTestServer(t)
  const { page, context, errors } = await openPage(browser(), server.url)
  t.after(() => context.close())
  await page.goto('/')
  await page.getByLabel('Admin token').fill('not-the-token')
  await page.getByRole('button', { name: 'Sign in' }).click()
  const alert = page.getByRole('alert')
  await alert.waitFor()
  const said = await alert.innerText()
  assert.match(said, /not accepted/)
  // `token create` needs a token itself: the message says where the first one comes from.
  assert.match(said, /printed when it first started, or the DECKHAND_ADMIN_TOKEN/)
  assert.match(said, /restart Deckhand with DECKHAND_ADMIN_TOKEN set to a new secret/)
  assert.doesNotMatch(said, /`/)
  assert.equal(await page.evaluate(() => sessionStorage.length), 0)
  assert.equal(page.url(), `${server.url}/`)
  await screenshot(page, '00-sign-in-wrong-token')
  // The browser itself logs the refused request; that 401 is the point of this test.
  assert.deepEqual(
    errors.filter((e) => !/status of 401/.test(e)),
    [],
  )
})

test(
  'an admin adds a trigger, watches its call deploy with a live log, then revokes it',
  { skip },
  async (t) => {
    const server = await startTestServer(t)
    const dir = mkdtempSync(join(tmpdir(), 'deckhand-ui-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const go = join(dir, 'go')
    const { page, context, errors } = await openPage(browser(), server.url)
    t.after(() => context.close())

    await signIn(page, server)
    await page.getByText('No services yet').waitFor()
    assert.equal(page.url().includes(server.token), false)
    await screenshot(page, '01-services-empty')

    // The script waits for a file, so the test decides when the second log line may appear.
    const script = `echo first line; while [ ! -f '${go}' ]; do sleep 0.05; done; echo second line`
    assert.equal(
      (await server.api('POST', '/api/v1/services', commandService('web', script))).status,
      201,
    )
    await page.reload()
    await page.getByRole('link', { name: 'web', exact: true }).click()
    await page.getByRole('heading', { name: 'web', exact: true }).waitFor()
    await page.getByText('No triggers yet').waitFor()
    await screenshot(page, '02-service-no-triggers')

    await page.getByRole('button', { name: 'Add trigger' }).click()
    const form = page.getByRole('dialog', { name: 'Add a trigger to web' })
    await form.getByLabel('Name', { exact: true }).fill('ci')
    await form.getByLabel('Sender').selectOption('generic')
    await form.getByLabel('Allowed IPs').fill('127.0.0.1, ::1')
    await form.getByLabel('Env from query').fill('SERVICE_TAG')
    await screenshot(page, '03-add-trigger-form')
    await form.getByRole('button', { name: 'Add trigger' }).click()
    const shown = page.getByRole('dialog', { name: 'URL of trigger ci' })
    await shown.getByText('This URL is shown once').waitFor()
    const url = await shown.getByLabel('Trigger URL').inputValue()
    assert.match(url, new RegExp(`^${server.url}/hooks/[A-Za-z0-9_-]{43}$`))
    await shown.getByRole('button', { name: 'Copy' }).click()
    await shown.getByText('Copied to the clipboard.').waitFor()
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), url)
    await screenshot(page, '04-trigger-url-dialog')
    await shown.getByRole('button', { name: 'Done' }).click()
    const row = page.locator('tr[data-trigger="ci"]')
    await row.waitFor()
    assert.match(await row.innerText(), /127\.0\.0\.1, ::1/)
    assert.match(await row.innerText(), /SERVICE_TAG/)

    await page.getByRole('tab', { name: 'Deployments' }).click()
    await page.getByText('No deployments yet').waitFor()
    // A marker that a reload would wipe: everything below must happen live.
    await page.evaluate(() => Object.assign(window, { notReloaded: true }))
    const call = await server.hook(url)
    assert.equal(call.status, 202)
    const deploymentId: string = call.body.deployments[0].id
    await page.getByRole('link', { name: deploymentId }).click()
    await page.getByRole('log').getByText('first line').waitFor()
    await page.locator('[data-testid="deployment-state"]', { hasText: 'running' }).waitFor()
    await page.getByRole('button', { name: 'Cancel deployment' }).waitFor()
    await screenshot(page, '05-deployment-running')
    writeFileSync(go, '')
    await page.getByRole('log').getByText('second line').waitFor()
    await page.locator('[data-testid="deployment-state"]', { hasText: 'succeeded' }).waitFor()
    await page.getByRole('button', { name: 'Cancel deployment' }).waitFor({ state: 'detached' })
    assert.equal(
      await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
      true,
    )
    await screenshot(page, '06-deployment-succeeded')

    await page.getByRole('link', { name: 'web', exact: true }).click()
    await page.locator(`tr[data-deployment="${deploymentId}"]`, { hasText: 'succeeded' }).waitFor()
    await screenshot(page, '07-service-deployments')

    await page.getByRole('button', { name: 'Redeploy' }).click()
    const queued = page.getByTestId('deployment-banner')
    await queued.waitFor()
    const manualId = (await queued.getByRole('link').innerText()).trim()
    await waitFor(
      async () =>
        (await server.api('GET', `/api/v1/deployments/${manualId}`)).body.state === 'succeeded',
      {
        what: 'the manual redeploy to succeed',
      },
    )

    await page.getByRole('tab', { name: 'Triggers' }).click()
    await row.getByRole('button', { name: 'Rotate ci' }).click()
    await page
      .getByRole('dialog', { name: 'Rotate ci?' })
      .getByRole('button', { name: 'Rotate' })
      .click()
    const rotated = page.getByRole('dialog', { name: 'URL of trigger ci' })
    const newUrl = await rotated.getByLabel('Trigger URL').inputValue()
    assert.notEqual(newUrl, url)
    assert.equal((await server.hook(url)).status, 404)
    await rotated.getByRole('button', { name: 'Done' }).click()

    await row.getByRole('button', { name: 'Revoke ci' }).click()
    const confirm = page.getByRole('dialog', { name: 'Revoke ci?' })
    await screenshot(page, '08-revoke-confirm')
    await confirm.getByRole('button', { name: 'Revoke' }).click()
    await page.getByText('No active triggers').waitFor()
    await page.locator('tr[data-trigger="ci"][data-revoked="true"]').waitFor()
    assert.equal((await server.hook(newUrl)).status, 404)

    await page.getByRole('link', { name: 'Calls' }).click()
    await page.getByRole('heading', { name: 'Calls' }).waitFor()
    await page.getByRole('cell', { name: deploymentId }).waitFor()
    await screenshot(page, '09-calls')

    await page.getByRole('link', { name: 'Services' }).click()
    const serviceRow = page
      .getByRole('row')
      .filter({ has: page.getByRole('link', { name: 'web', exact: true }) })
    await serviceRow.getByText('succeeded').waitFor()
    assert.match(await serviceRow.innerText(), /command\s+not visible\s+1\s+succeeded/)
    await screenshot(page, '12-services-list')

    await page.setViewportSize({ width: 390, height: 844 })
    await page.goto(`/deployments/${deploymentId}`)
    await page.locator('[data-testid="deployment-state"]', { hasText: 'succeeded' }).waitFor()
    await screenshot(page, '10-phone-deployment')
    await page.goto('/services/web/triggers')
    await page.getByText('No active triggers').waitFor()
    await screenshot(page, '11-phone-service')

    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByText('You are signed out.').waitFor()
    assert.equal(await page.evaluate(() => sessionStorage.length), 0)
    assert.deepEqual(errors, [])
  },
)

test(
  'a failed deployment shows its error with the output lines on lines of their own',
  { skip },
  async (t) => {
    const server = await startTestServer(t)
    const script = 'echo first broken line; echo second broken line; exit 1'
    assert.equal(
      (await server.api('POST', '/api/v1/services', commandService('web', script))).status,
      201,
    )
    const queued = await server.api('POST', '/api/v1/services/web/deployments', {
      action: 'redeploy',
    })
    const id: string = queued.body.deployments[0].id
    await waitFor(
      async () => (await server.api('GET', `/api/v1/deployments/${id}`)).body.state === 'failed',
      {
        what: 'the broken redeploy to fail',
      },
    )
    const { page, errors } = await openSignedIn(t, browser(), server)
    await page.goto(`/deployments/${id}`)
    const shown = page.getByTestId('deployment-error')
    await shown.waitFor()
    // innerText keeps a line break only where the page shows one.
    assert.match(await shown.innerText(), /\nfirst broken line\nsecond broken line/)
    await screenshot(page, '13-deployment-failed')
    assert.deepEqual(errors, [])
  },
)

test(
  'a failed redeploy shows the target it tried, with the secrets in it redacted',
  { skip },
  async (t) => {
    const server = await startTestServer(t)
    assert.equal((await server.api('POST', '/api/v1/services', commandService('web'))).status, 201)
    // A changed target not yet run: the redeploy tries it, fails, and the row is put back.
    const broken = `echo ${server.token} > /dev/null; exit 1`
    const patched = await server.api('PATCH', '/api/v1/services/web', {
      target: { redeploy: broken },
    })
    assert.equal(patched.status, 200, JSON.stringify(patched.body))
    const queued = await server.api('POST', '/api/v1/services/web/deployments', {
      action: 'redeploy',
    })
    const id: string = queued.body.deployments[0].id
    const failed = await waitFor(
      async () => {
        const answer = (await server.api('GET', `/api/v1/deployments/${id}`)).body
        return answer.state === 'failed' ? answer : undefined
      },
      { what: 'the changed redeploy to fail' },
    )
    assert.equal(failed.tried.target.redeploy, 'echo [redacted] > /dev/null; exit 1')
    const { page, errors } = await openSignedIn(t, browser(), server)
    await page.goto(`/deployments/${id}`)
    const tried = page.getByTestId('deployment-tried')
    await tried.waitFor()
    const text = await tried.innerText()
    assert.match(text, /^Tried: the target below\. The service was put back to what runs\./)
    assert.match(text, /"redeploy": "echo \[redacted\] > \/dev\/null; exit 1"/)
    assert.equal(text.includes(server.token), false, 'the admin token is not on the page')
    assert.equal(await page.getByText(server.token).count(), 0)
    await screenshot(page, '13b-deployment-tried')
    assert.deepEqual(errors, [])
  },
)

test(
  'the service list and page show READY as ready/desired, and say when the driver cannot see it',
  { skip },
  async (t) => {
    const server = await startTestServer(t)
    assert.equal((await server.api('POST', '/api/v1/services', commandService('job'))).status, 201)
    const created = await server.api('POST', '/api/v1/services', {
      name: 'web',
      driver: 'process',
      target: { command: 'exec sleep 300', stopGrace: '1s' },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    await waitFor(
      async () =>
        (await server.api('GET', '/api/v1/services/web')).body.status.ready === 1 || undefined,
      {
        what: 'the process replica to run',
      },
    )
    const { page, errors } = await openSignedIn(t, browser(), server)
    await page.getByRole('columnheader', { name: 'Ready' }).waitFor()
    await page.locator('[data-ready="web"]', { hasText: '1/1' }).waitFor()
    await page.locator('[data-ready="job"]', { hasText: 'not visible' }).waitFor()
    await screenshot(page, '14-services-ready')
    await page.getByRole('link', { name: 'web', exact: true }).click()
    await page.getByRole('heading', { name: 'web', exact: true }).waitFor()
    assert.equal(await page.locator('dd[data-ready="web"]').textContent(), '1/1')
    await screenshot(page, '15-service-ready')
    assert.deepEqual(errors, [])
  },
)

test(
  'the built UI runs under its Content-Security-Policy without a single violation',
  { skip },
  async (t) => {
    const server = await startTestServer(t)
    assert.equal((await server.api('POST', '/api/v1/services', commandService('web'))).status, 201)
    const { page, context, errors } = await openPage(browser(), server.url)
    t.after(() => context.close())
    // Chromium reports what a policy blocks as this event, and as a console error.
    await page.addInitScript(() => {
      const seen: string[] = []
      ;(window as unknown as { cspViolations: string[] }).cspViolations = seen
      document.addEventListener('securitypolicyviolation', (event) =>
        seen.push(`${event.violatedDirective} ${event.blockedURI}`),
      )
    })
    const response = await page.goto('/')
    assert.match(response?.headers()['content-security-policy'] ?? '', /default-src 'self'/)
    await page.getByLabel('Admin token').fill(server.token)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('link', { name: 'web', exact: true }).click()
    await page.getByRole('heading', { name: 'web', exact: true }).waitFor()
    await page.getByText('No triggers yet').waitFor()
    await screenshot(page, '12-under-csp')
    assert.deepEqual(
      await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations),
      [],
    )
    assert.deepEqual(errors, [])
  },
)

test('the server sends hashed assets immutable, index.html uncached, and keeps API 404s JSON', async (t) => {
  const server = await startTestServer(t)
  const index = await fetch(`${server.url}/services/web`)
  assert.equal(index.status, 200)
  assert.equal(index.headers.get('cache-control'), 'no-cache')
  const html = await index.text()
  const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1]
  assert.ok(asset, html)
  const script = await fetch(`${server.url}${asset}`)
  assert.equal(script.status, 200)
  assert.equal(script.headers.get('cache-control'), 'public, max-age=31536000, immutable')
  assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/)
  const api = await fetch(`${server.url}/api/v1/nothing-here`, {
    headers: { authorization: `Bearer ${server.token}` },
  })
  assert.equal(api.status, 404)
  assert.match(api.headers.get('content-type') ?? '', /json/)
  assert.equal((await fetch(`${server.url}/assets/missing.js`)).status, 404)
  for (const path of [
    '/assets/..%2f..%2fpackage.json',
    '/assets/%2e%2e/%2e%2e/package.json',
    '/..%2f..%2fpackage.json',
  ]) {
    const response = await fetch(`${server.url}${path}`)
    assert.equal((await response.text()).includes('"devDependencies"'), false, path)
  }
  assert.ok(WEB_DIST_DIR.endsWith(join('web', 'dist')))
})

test('without web/dist, / says to run npm run build:web', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(webUi, { distDir: join(tmpdir(), 'deckhand-no-such-dist') })
  const response = await app.inject({ method: 'GET', url: '/' })
  assert.equal(response.statusCode, 503)
  assert.match(response.body, /npm run build:web/)
})
