/** The UI in Chromium: a service page shows what runs, follows changes live, and helps wire triggers. */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Browser } from 'playwright-core'
import {
  browserSkipReason,
  buildWebIfStale,
  horizontalOverflow,
  launchBrowser,
  openPage,
  screenshot,
  signIn,
} from '../support/browser.ts'
import { freePort } from '../support/spawn-server.ts'
import { commandService, startTestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

const skip = browserSkipReason()
let browser: Browser | undefined
const PHONE = { width: 390, height: 844 }

before(async () => {
  buildWebIfStale()
  if (!skip) {
    browser = await launchBrowser()
  }
})

after(async () => {
  await browser?.close()
})

const SLEEPER = 'exec sleep 300'

test('the service page shows READY, the last deployment live and a row per instance', { skip }, async (t) => {
  const server = await startTestServer(t)
  const basePort = await freePort()
  const created = await server.api('POST', '/api/v1/services', {
    name: 'web',
    driver: 'process',
    target: { command: SLEEPER, basePort, replicas: 2, stopGrace: '1s' },
    scale: { min: 1, max: 3 },
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const items = await waitFor(async () => {
    const status = (await server.api('GET', '/api/v1/services/web')).body.status
    return status.ready === 2 ? status.items : undefined
  }, { what: 'both replicas to run' })
  const { page, context, errors } = await openPage(browser!, server.url)
  t.after(() => context.close())
  await signIn(page, server)
  await page.goto('/services/web')
  await page.locator('dd[data-ready="web"]', { hasText: '2/2' }).waitFor()
  const table = page.getByRole('table', { name: 'Instances' })
  for (const item of items) {
    const row = table.locator(`tr[data-instance="${item.id}"]`)
    await row.waitFor()
    const text = await row.innerText()
    assert.match(text, new RegExp(`\\b${item.pid}\\b`))
    assert.match(text, new RegExp(`\\b${item.port}\\b`))
    assert.match(text, /running/)
  }
  assert.deepEqual(items.map((i: { port: string }) => i.port), [String(basePort), String(basePort + 1)])
  await page.getByText('never deployed').waitFor()
  await screenshot(page, '80-service-instances')

  // Scaled from outside the page: the header follows without a reload.
  await page.evaluate(() => Object.assign(window, { notReloaded: true }))
  const scaled = await server.api('POST', '/api/v1/services/web/deployments', { action: 'scale', replicas: 3 })
  const id: string = scaled.body.deployments[0].id
  await page.locator(`span[data-deployment="${id}"]`, { hasText: 'succeeded' }).waitFor()
  await page.locator('dd[data-ready="web"]', { hasText: '3/3' }).waitFor()
  await table.locator('tbody tr').nth(2).waitFor()
  assert.equal(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true)

  await page.setViewportSize(PHONE)
  assert.equal(await horizontalOverflow(page), 0)
  // Stacked rows: each value carries its column's name, so a phone shows "Pid / container 1234".
  const firstCell = table.locator('tbody tr').first().locator('td').nth(1)
  const label = await firstCell.evaluate((td) => getComputedStyle(td, '::before').content)
  assert.equal(label, '"Pid / container"')
  await screenshot(page, '81-phone-service-instances')
  assert.deepEqual(errors, [])
})

test('a new trigger comes with a curl line, a Test button that calls it, and setup help per sender', { skip }, async (t) => {
  const server = await startTestServer(t)
  assert.equal((await server.api('POST', '/api/v1/services', commandService('web'))).status, 201)
  const { page, context, errors } = await openPage(browser!, server.url)
  t.after(() => context.close())
  await signIn(page, server)
  await page.goto('/services/web/triggers')
  await page.getByRole('button', { name: 'Add trigger' }).click()
  const form = page.getByRole('dialog', { name: 'Add a trigger to web' })
  await form.getByLabel('Name', { exact: true }).fill('ci')
  await form.getByLabel('Sender').selectOption('github')
  await form.getByRole('button', { name: 'Add trigger' }).click()
  const shown = page.getByRole('dialog', { name: 'URL of trigger ci' })
  const url = await shown.getByLabel('Trigger URL').inputValue()
  assert.equal(await shown.getByTestId('curl-line').innerText(), `curl -fsS -X POST '${url}'`)

  // The help opens on the trigger's own sender, naming GitHub's fields.
  const help = shown.getByTestId('sender-help')
  assert.match(await help.innerText(), /Payload URL: .*\/hooks\//)
  assert.match(await help.innerText(), /Content type: application\/json/)
  await shown.getByLabel('Set it up in').selectOption('alertmanager')
  assert.match(await help.innerText(), new RegExp(`webhook_configs:\\n\\s+- url: ${url}`))
  await shown.getByLabel('Set it up in').selectOption('registry')
  assert.match(await help.innerText(), /notifications:\n\s+endpoints:/)
  for (const sender of ['dockerhub', 'gitlab', 'bitbucket', 'gitea', 'curl']) {
    await shown.getByLabel('Set it up in').selectOption(sender)
    assert.match(await help.innerText(), sender === 'curl' ? /curl -fsS -X POST "\$DECKHAND_URL"/ : /\/hooks\//, sender)
  }
  await screenshot(page, '82-trigger-dialog-help')

  // A github trigger that gets a bare POST answers as GitHub's format requires: the Test shows it.
  await shown.getByRole('button', { name: 'Test' }).click()
  const answer = shown.getByTestId('test-answer')
  await answer.waitFor()
  const call = await waitFor(async () => (await server.api('GET', '/api/v1/calls')).body.items[0], {
    what: 'the test call to be recorded',
  })
  assert.match(await answer.innerText(), new RegExp(`^Answer ${call.status}\\b`))
  await screenshot(page, '83-trigger-test-answer')
  await shown.getByRole('button', { name: 'Done' }).click()
  assert.deepEqual(errors.filter((e) => !/status of 4\d\d/.test(e)), [])
})

test('a generic trigger\'s Test queues a deployment and links to it', { skip }, async (t) => {
  const server = await startTestServer(t)
  assert.equal((await server.api('POST', '/api/v1/services', commandService('web'))).status, 201)
  const { page, context, errors } = await openPage(browser!, server.url)
  t.after(() => context.close())
  await signIn(page, server)
  await page.goto('/services/web/triggers')
  await page.getByRole('button', { name: 'Add trigger' }).click()
  const form = page.getByRole('dialog', { name: 'Add a trigger to web' })
  await form.getByLabel('Name', { exact: true }).fill('ci')
  await form.getByLabel('Sender').selectOption('generic')
  await form.getByRole('button', { name: 'Add trigger' }).click()
  const shown = page.getByRole('dialog', { name: 'URL of trigger ci' })
  await shown.getByRole('button', { name: 'Test' }).click()
  const answer = shown.getByTestId('test-answer')
  await answer.getByText('Answer 202').waitFor()
  const id = (await answer.getByRole('link').innerText()).trim()
  assert.match(id, /^dpl_/)
  assert.equal((await server.api('GET', `/api/v1/deployments/${id}`)).status, 200)
  await answer.getByRole('link').click()
  await page.getByRole('heading', { name: `Deployment ${id}` }).waitFor()
  assert.deepEqual(errors, [])
})

test('the triggers tab follows changes made elsewhere and lists revoked triggers greyed', { skip }, async (t) => {
  const server = await startTestServer(t)
  assert.equal((await server.api('POST', '/api/v1/services', commandService('web'))).status, 201)
  const { page, context, errors } = await openPage(browser!, server.url)
  t.after(() => context.close())
  await signIn(page, server)
  await page.goto('/services/web/triggers')
  await page.getByText('No triggers yet').waitFor()
  const made = await server.api('POST', '/api/v1/services/web/triggers', { name: 'from-cli', action: 'redeploy', sender: 'generic' })
  assert.equal(made.status, 201)
  const row = page.locator('tr[data-trigger="from-cli"]')
  await row.getByRole('button', { name: 'Revoke from-cli' }).waitFor()
  assert.equal((await server.api('DELETE', `/api/v1/triggers/${made.body.id}`)).status, 204)
  await page.locator('tr[data-trigger="from-cli"][data-revoked="true"]').waitFor()
  assert.match(await row.innerText(), /revoked/)
  assert.equal(await row.getByRole('button').count(), 0)
  const color = await row.locator('td').first().evaluate((td) => getComputedStyle(td).color)
  const active = await page.locator('h1').evaluate((h) => getComputedStyle(h).color)
  assert.notEqual(color, active)
  await page.getByText('No active triggers').waitFor()
  await screenshot(page, '84-triggers-revoked')
  assert.deepEqual(errors, [])
})
