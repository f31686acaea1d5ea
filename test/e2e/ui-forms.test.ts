/** The UI's forms in Chromium: checks before sending, errors under their field, drivers, targets. */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import type { Page } from 'playwright-core'

import { horizontalOverflow, screenshot } from '../support/browser.ts'
import { commandService, startTestServer } from '../support/start-server.ts'
import { openSignedIn, uiSession, useBrowser } from '../support/ui-session.ts'

const { skip, browser } = useBrowser()
const PHONE = { width: 390, height: 844 }

/** The bodies of the requests the page sends to `path` with `method`, as they leave the browser. */
function recordBodies(page: Page, method: string, path: RegExp): unknown[] {
  const bodies: unknown[] = []
  page.on('request', (request) => {
    if (request.method() === method && path.test(new URL(request.url()).pathname)) {
      bodies.push(JSON.parse(request.postData() ?? 'null'))
    }
  })
  return bodies
}

test(
  'the create form checks numbers before sending, clears the health field, and places errors',
  { skip },
  async (t) => {
    const { page, errors } = await uiSession(t, browser(), {
      server: { env: { DECKHAND_DRIVERS: 'process,command' } },
    })
    const posts = recordBodies(page, 'POST', /^\/api\/v1\/services$/)
    await page.goto('/new-service')
    const form = page.getByRole('form', { name: 'Create a service' })

    // Only the drivers the server runs, and where that is set.
    const driver = form.getByLabel('Driver')
    await driver.locator('option', { hasText: 'command' }).waitFor({ state: 'attached' })
    assert.deepEqual(await driver.locator('option').allInnerTexts(), ['process', 'command'])
    assert.match(
      await form.locator('#service-driver-hint').innerText(),
      /process, command \(set by DECKHAND_DRIVERS\)/,
    )

    await form.getByLabel('Name', { exact: true }).fill('web')
    await form.getByLabel('Command').fill('sleep 60')
    await form.getByLabel('Replicas', { exact: true }).fill('two')
    await form.getByLabel('Maximum replicas').fill('1O')
    await form.getByRole('button', { name: 'Create service' }).click()
    await form.locator('#target-replicas-error').getByText('must be a whole number').waitFor()
    await form.locator('#scale-max-error').getByText('must be a whole number').waitFor()
    assert.equal(
      await form.getByLabel('Replicas', { exact: true }).getAttribute('aria-invalid'),
      'true',
    )
    assert.equal(posts.length, 0, 'nothing was sent')
    await screenshot(page, '90-create-numbers-checked')

    // A kind change empties the value: "1s" means nothing as an HTTP path.
    assert.equal(await form.getByLabel('Running for').inputValue(), '1s')
    await form.getByLabel('Health check').selectOption('http')
    assert.equal(await form.getByLabel('Health path').inputValue(), '')
    await form.getByLabel('Health check').selectOption('runningFor')
    await form.getByLabel('Running for').fill('soon')
    await form.getByLabel('Replicas', { exact: true }).fill('1')
    await form.getByLabel('Maximum replicas').fill('10')
    await form.getByRole('button', { name: 'Create service' }).click()
    // The server's sentence names target.health: it sits under the health field, not the command.
    await form
      .locator('#target-health-error')
      .getByText(/target\.health\.runningFor must be a duration/)
      .waitFor()
    assert.equal(await form.locator('#target-command-error').count(), 0)
    assert.equal(posts.length, 1)
    await screenshot(page, '91-create-error-under-field')
    await page.setViewportSize(PHONE)
    assert.equal(await horizontalOverflow(page), 0)
    // The error stays inside its field's column, long field name and all.
    const error = await form.locator('#target-health-error').boundingBox()
    const input = await form.getByLabel('Running for').boundingBox()
    assert.ok(
      error && input && error.x + error.width <= input.x + input.width + 1,
      JSON.stringify({ error, input }),
    )
    await screenshot(page, '92-phone-create-error')
    assert.deepEqual(
      errors.filter((e) => !/status of 400/.test(e)),
      [],
    )
  },
)

test(
  'a docker service is made from container, Compose or label fields, and its target is edited in Settings',
  { skip },
  async (t) => {
    const { server, page, errors } = await uiSession(t, browser(), {
      server: { env: { DECKHAND_DRIVERS: 'command,docker' } },
    })
    await page.goto('/new-service')
    const form = page.getByRole('form', { name: 'Create a service' })
    await form
      .getByLabel('Driver')
      .locator('option', { hasText: 'docker' })
      .waitFor({ state: 'attached' })
    await form.getByLabel('Driver').selectOption('docker')
    await form.getByLabel('Name', { exact: true }).fill('shop-web')
    await form.getByLabel('Runs as').selectOption('compose')
    await form.getByLabel('Compose project').fill('shop')
    await form.getByRole('button', { name: 'Create service' }).click()
    await form.locator('#target-service-error').getByText('name the Compose service').waitFor()
    await form.getByLabel('Compose service').fill('web')
    await form.getByLabel('Image').fill('registry.example/acme/web')
    await screenshot(page, '93-create-docker-compose')
    await form.getByRole('button', { name: 'Create service' }).click()
    await page.getByText('Service shop-web was created.').waitFor()
    const created = (await server.api('GET', '/api/v1/services/shop-web')).body
    assert.deepEqual(created.target, { project: 'shop', service: 'web' })
    assert.equal(created.image, 'registry.example/acme/web')

    // Settings: from a Compose service to label matching; the Compose fields are removed.
    await page.goto('/services/shop-web/settings')
    const target = page.getByRole('form', { name: 'Driver target' })
    assert.equal(await target.getByLabel('Compose project').inputValue(), 'shop')
    await target.getByLabel('Runs as').selectOption('labels')
    await target.getByLabel('Labels').fill('app=web\ntier=front')
    await target.getByRole('button', { name: 'Save target' }).click()
    await target.getByText('Target saved.').waitFor()
    const edited = (await server.api('GET', '/api/v1/services/shop-web')).body
    assert.deepEqual(edited.target, { labels: { app: 'web', tier: 'front' } })
    await screenshot(page, '94-settings-target-docker')
    assert.deepEqual(
      errors.filter((e) => !/status of 400/.test(e)),
      [],
    )
  },
)

test(
  "a command service's commands are edited in Settings and the server's refusal sits under its field",
  { skip },
  async (t) => {
    const { server, page, errors } = await uiSession(t, browser(), {
      services: [commandService('web')],
    })
    await page.goto('/services/web/settings')
    const target = page.getByRole('form', { name: 'Driver target' })
    await target.getByLabel('Redeploy command').fill('echo new redeploy')
    await target.getByLabel('Timeout').fill('later')
    await target.getByRole('button', { name: 'Save target' }).click()
    await target.locator('#target-timeout-error').waitFor()
    assert.equal(
      (await server.api('GET', '/api/v1/services/web')).body.target.redeploy,
      'echo deployed',
    )
    await target.getByLabel('Timeout').fill('30s')
    await target.getByRole('button', { name: 'Save target' }).click()
    await target.getByText('Target saved.').waitFor()
    const saved = (await server.api('GET', '/api/v1/services/web')).body.target
    assert.equal(saved.redeploy, 'echo new redeploy')
    assert.equal(saved.timeout, '30s')
    assert.deepEqual(
      errors.filter((e) => !/status of 400/.test(e)),
      [],
    )
  },
)

test('the queued banner turns into the outcome when its deployment ends', { skip }, async (t) => {
  const { page, errors } = await uiSession(t, browser(), { services: [commandService('web')] })
  await page.goto('/services/web')
  await page.getByRole('button', { name: 'Redeploy' }).click()
  const banner = page.getByTestId('deployment-banner')
  await banner.getByText('Deployment succeeded').waitFor()
  assert.doesNotMatch(await banner.innerText(), /queued/)
  assert.deepEqual(errors, [])
})

test(
  'on a phone every table stacks its rows and keeps its buttons on screen',
  { skip },
  async (t) => {
    const server = await startTestServer(t)
    assert.equal((await server.api('POST', '/api/v1/services', commandService('web'))).status, 201)
    const made = await server.api('POST', '/api/v1/services/web/triggers', {
      name: 'ci',
      action: 'redeploy',
    })
    assert.equal((await server.hook(made.body.url)).status, 202)
    const { page, errors } = await openSignedIn(t, browser(), server, PHONE)
    for (const path of ['/', '/services/web/triggers', '/services/web/deployments', '/calls']) {
      await page.goto(path)
      await page.locator('table.stacked tbody tr').first().waitFor()
      assert.equal(await horizontalOverflow(page), 0, path)
      const overflow = await page
        .locator('.table-wrap')
        .first()
        .evaluate((el) => el.scrollWidth - el.clientWidth)
      assert.equal(overflow, 0, `${path}: the table scrolls sideways`)
      await screenshot(page, `95-phone${path.replaceAll('/', '-')}`)
    }
    await page.goto('/services/web/triggers')
    for (const name of ['Rotate ci', 'Revoke ci']) {
      const box = await page.getByRole('button', { name }).boundingBox()
      assert.ok(
        box && box.x >= 0 && box.x + box.width <= PHONE.width,
        `${name} is on screen: ${JSON.stringify(box)}`,
      )
    }
    assert.deepEqual(errors, [])
  },
)

test(
  'the empty states name the real command and which refused calls are not recorded',
  { skip },
  async (t) => {
    const { page, errors } = await uiSession(t, browser())
    const services = page.locator('.empty', { hasText: 'No services yet' })
    await services.waitFor()
    assert.match(await services.innerText(), /deckhand service add/)
    assert.doesNotMatch(await services.innerText(), /service create/)
    await page.goto('/calls')
    const calls = page.locator('.empty', { hasText: 'No calls yet' })
    await calls.waitFor()
    const text = await calls.innerText()
    assert.match(text, /refused ones included/)
    assert.match(
      text,
      /unknown or revoked URL \(404\), over the rate limit \(429\) or too large \(413\) are not recorded/,
    )
    await screenshot(page, '96-calls-empty')
    assert.deepEqual(errors, [])
  },
)
