/** The UI in Chromium: a service page shows what runs, follows changes live, and helps wire triggers. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { readFixture } from '../fixtures/senders/load.ts'
import { horizontalOverflow, screenshot } from '../support/browser.ts'
import { freePort } from '../support/spawn-server.ts'
import { commandService, startTestServer } from '../support/start-server.ts'
import { openSignedIn, uiSession, useBrowser } from '../support/ui-session.ts'
import { waitFor } from '../support/wait-for.ts'

const { skip, browser } = useBrowser()
const PHONE = { width: 390, height: 844 }

const SLEEPER = 'exec sleep 300'

test(
  'the service page shows READY, the last deployment live and a row per instance',
  { skip },
  async (t) => {
    const server = await startTestServer(t)
    const basePort = await freePort()
    const created = await server.api('POST', '/api/v1/services', {
      name: 'web',
      driver: 'process',
      target: { command: SLEEPER, basePort, replicas: 2, stopGrace: '1s' },
      scale: { min: 1, max: 3 },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const items = await waitFor(
      async () => {
        const status = (await server.api('GET', '/api/v1/services/web')).body.status
        return status.ready === 2 ? status.items : undefined
      },
      { what: 'both replicas to run' },
    )
    const { page, errors } = await openSignedIn(t, browser(), server)
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
    assert.deepEqual(
      items.map((i: { port: string }) => i.port),
      [String(basePort), String(basePort + 1)],
    )
    // The first start was a deployment of its own: the page shows it as the last one.
    const [first] = (await server.api('GET', '/api/v1/deployments?service=web')).body.items
    await page.locator(`span[data-deployment="${first.id}"]`, { hasText: 'succeeded' }).waitFor()
    await screenshot(page, '80-service-instances')

    // Scaled from outside the page: the header follows without a reload.
    await page.evaluate(() => Object.assign(window, { notReloaded: true }))
    const scaled = await server.api('POST', '/api/v1/services/web/deployments', {
      action: 'scale',
      replicas: 3,
    })
    const id: string = scaled.body.deployments[0].id
    await page.locator(`span[data-deployment="${id}"]`, { hasText: 'succeeded' }).waitFor()
    await page.locator('dd[data-ready="web"]', { hasText: '3/3' }).waitFor()
    await table.locator('tbody tr').nth(2).waitFor()
    assert.equal(
      await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
      true,
    )

    await page.setViewportSize(PHONE)
    assert.equal(await horizontalOverflow(page), 0)
    // Stacked rows: each value carries its column's name, so a phone shows "Pid / container 1234".
    const firstCell = table.locator('tbody tr').first().locator('td').nth(1)
    const label = await firstCell.evaluate((td) => getComputedStyle(td, '::before').content)
    assert.equal(label, '"Pid / container"')
    await screenshot(page, '81-phone-service-instances')
    assert.deepEqual(errors, [])
  },
)

test(
  'a new trigger comes with a curl line, a Test button that calls it, and setup help per sender',
  { skip },
  async (t) => {
    const { server, page, errors } = await uiSession(t, browser(), {
      services: [commandService('web')],
    })
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
      assert.match(
        await help.innerText(),
        sender === 'curl' ? /curl -fsS -X POST "\$DECKHAND_URL"/ : /\/hooks\//,
        sender,
      )
    }
    await screenshot(page, '82-trigger-dialog-help')

    // A github trigger that gets a bare POST answers as GitHub's format requires: the Test shows it.
    await shown.getByRole('button', { name: 'Test' }).click()
    const answer = shown.getByTestId('test-answer')
    await answer.waitFor()
    const call = await waitFor(
      async () => (await server.api('GET', '/api/v1/calls')).body.items[0],
      {
        what: 'the test call to be recorded',
      },
    )
    assert.match(await answer.innerText(), new RegExp(`^Answer ${call.status}\\b`))
    await screenshot(page, '83-trigger-test-answer')
    await page.setViewportSize(PHONE)
    const dialogBox = await shown.boundingBox()
    assert.ok(
      dialogBox && dialogBox.x >= 0 && dialogBox.x + dialogBox.width <= PHONE.width,
      JSON.stringify(dialogBox),
    )
    await screenshot(page, '83-phone-trigger-dialog')
    await shown.getByRole('button', { name: 'Done' }).click()
    assert.deepEqual(
      errors.filter((e) => !/status of 4\d\d/.test(e)),
      [],
    )
  },
)

test("a generic trigger's Test queues a deployment and links to it", { skip }, async (t) => {
  const { server, page, errors } = await uiSession(t, browser(), {
    services: [commandService('web')],
  })
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

test(
  'the triggers tab follows changes made elsewhere and lists revoked triggers greyed',
  { skip },
  async (t) => {
    const { server, page, errors } = await uiSession(t, browser(), {
      services: [commandService('web')],
    })
    await page.goto('/services/web/triggers')
    await page.getByText('No triggers yet').waitFor()
    const made = await server.api('POST', '/api/v1/services/web/triggers', {
      name: 'from-cli',
      action: 'redeploy',
      sender: 'generic',
    })
    assert.equal(made.status, 201)
    const row = page.locator('tr[data-trigger="from-cli"]')
    await row.getByRole('button', { name: 'Revoke from-cli' }).waitFor()
    assert.equal((await server.api('DELETE', `/api/v1/triggers/${made.body.id}`)).status, 204)
    await page.locator('tr[data-trigger="from-cli"][data-revoked="true"]').waitFor()
    assert.match(await row.innerText(), /revoked/)
    assert.equal(await row.getByRole('button').count(), 0)
    const color = await row
      .locator('td')
      .first()
      .evaluate((td) => getComputedStyle(td).color)
    const active = await page.locator('h1').evaluate((h) => getComputedStyle(h).color)
    assert.notEqual(color, active)
    await page.getByText('No active triggers').waitFor()
    await screenshot(page, '84-triggers-revoked')
    assert.deepEqual(errors, [])
  },
)

test(
  'the deployments tab charts 30 days: count, failure rate and duration',
  { skip },
  async (t) => {
    const server = await startTestServer(t)
    const dir = mkdtempSync(join(tmpdir(), 'deckhand-chart-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const flag = join(dir, 'fail')
    const script = `if [ -f '${flag}' ]; then echo broken; exit 1; fi; echo deployed`
    assert.equal(
      (await server.api('POST', '/api/v1/services', commandService('web', script))).status,
      201,
    )
    const deploy = async (state: string) => {
      const queued = await server.api('POST', '/api/v1/services/web/deployments', {
        action: 'redeploy',
      })
      const id: string = queued.body.deployments[0].id
      await waitFor(
        async () =>
          (await server.api('GET', `/api/v1/deployments/${id}`)).body.state === state || undefined,
        {
          what: `deployment ${id} to end ${state}`,
        },
      )
    }
    await deploy('succeeded')
    await deploy('succeeded')
    writeFileSync(flag, '')
    await deploy('failed')
    const { page, errors } = await openSignedIn(t, browser(), server)
    await page.goto('/services/web/deployments')
    const caption = page.getByTestId('chart-summary')
    await caption
      .getByText(/^3 deployments in the last 30 days, 33% failed, median duration \d/)
      .waitFor()
    const canvas = page.getByTestId('deployment-chart').locator('canvas')
    const size = await canvas.evaluate((c: HTMLCanvasElement) => [c.width, c.height])
    assert.ok(size[0]! > 200 && size[1]! > 100, String(size))
    // The legend names the three series the chart draws.
    const legend = await page.getByTestId('deployment-chart').innerText()
    for (const series of ['deployments', 'failed', 'median duration (s)']) {
      assert.ok(legend.includes(series), legend)
    }
    await screenshot(page, '85-deployments-chart')
    await page.setViewportSize(PHONE)
    assert.equal(await horizontalOverflow(page), 0)
    await screenshot(page, '86-phone-deployments-chart')
    assert.deepEqual(errors, [])
  },
)

test(
  'a deployment page names its cause and links back; the calls page names trigger and service',
  { skip },
  async (t) => {
    const server = await startTestServer(t)
    assert.equal((await server.api('POST', '/api/v1/services', commandService('web'))).status, 201)
    const trigger = (
      await server.api('POST', '/api/v1/services/web/triggers', { name: 'ci', action: 'redeploy' })
    ).body
    // A GitHub ping is answered ignored: a second call, with a reason, on the calls page.
    const ping = await server.hook(trigger.url, {
      body: JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 }),
      headers: { 'content-type': 'application/json', 'x-github-event': 'ping' },
    })
    assert.equal(ping.status, 200, JSON.stringify(ping.body))
    const queued = await server.hook(trigger.url)
    assert.equal(queued.status, 202)
    const id: string = queued.body.deployments[0].id
    const { page, errors } = await openSignedIn(t, browser(), server)
    await page.goto(`/deployments/${id}`)
    const cause = page.getByTestId('deployment-cause')
    await cause.waitFor()
    assert.match(
      await cause.innerText(),
      /^Cause: trigger ci · sender generic · from (127\.0\.0\.1|::1|::ffff:127\.0\.0\.1) · \w{3} \d+, \d{4}/,
    )
    await screenshot(page, '87-deployment-cause')
    await cause.getByRole('link', { name: 'calls of this trigger' }).click()
    await page.getByRole('heading', { name: 'Calls' }).waitFor()
    assert.equal(await page.getByLabel('Trigger id').inputValue(), trigger.id)
    const row = page.locator(`tr:has(a:text("${id}"))`)
    await row.waitFor()
    const cells = await row.locator('td').allInnerTexts()
    assert.match(cells[0]!, /\w{3} \d+, \d{4}/, 'the date is in full')
    assert.match(cells[2]!, new RegExp(`^ci\\n${trigger.id}$`))
    assert.equal(cells[3], 'web')
    await screenshot(page, '88-calls-names')
    assert.equal(await horizontalOverflow(page), 0)
    const wrap = await page.locator('.table-wrap').evaluate((el) => el.scrollWidth - el.clientWidth)
    assert.equal(wrap, 0, 'the calls table fits 1280 px')
    await page.goto(`/deployments/${id}`)
    await cause.getByRole('link', { name: 'ci' }).click()
    await page.locator('tr[data-trigger="ci"]').waitFor()
    assert.equal(new URL(page.url()).pathname, '/services/web/triggers')

    // A push names its commit: the cause says which, on which branch of which repository.
    const fixture = readFixture('gitea-push')
    const push = await server.hook(trigger.url, { body: fixture.body, headers: fixture.headers })
    assert.equal(push.status, 202, JSON.stringify(push.body))
    await page.goto(`/deployments/${push.body.deployments[0].id}`)
    await cause.getByText('sender gitea').waitFor()
    assert.match(await cause.innerText(), /· commit 9f2c4b7a1d3e on main of acme\/web ·/)

    await page.setViewportSize(PHONE)
    await page.goto('/calls')
    await page.locator('tr[data-call]').first().waitFor()
    assert.equal(await horizontalOverflow(page), 0)
    await screenshot(page, '89-phone-calls')
    assert.deepEqual(errors, [])
  },
)
