/** Freezes and held deployments in the UI, in Chromium: freeze, held line, Start now, cancel. */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { horizontalOverflow, screenshot } from '../support/browser.ts'
import { commandService, type TestServer } from '../support/start-server.ts'
import { uiSession, useBrowser } from '../support/ui-session.ts'
import { waitFor } from '../support/wait-for.ts'

const { skip, browser } = useBrowser()
const PHONE = { width: 390, height: 844 }
const DESKTOP = { width: 1280, height: 800 }

async function heldCall(server: TestServer, url: string): Promise<string> {
  const answer = await server.hook(url, { body: '{}' })
  assert.equal(answer.status, 202, JSON.stringify(answer.body))
  assert.equal(answer.body.status, 'held')
  return answer.body.deployments[0].id
}

test(
  'frozen in the UI, a call is held with why and until when; Start now runs it; Unfreeze lifts it',
  { skip },
  async (t) => {
    const { server, page, errors } = await uiSession(t, browser(), {
      services: [commandService('web')],
      viewport: DESKTOP,
    })
    const trigger = await server.api('POST', '/api/v1/services/web/triggers', {
      action: 'redeploy',
      sender: 'generic',
    })
    const url: string = trigger.body.url
    await page.goto('/services/web')
    await page.getByRole('button', { name: 'Freeze…' }).click()
    const dialog = page.getByRole('dialog', { name: 'Freeze web' })
    await dialog.getByLabel('Until').fill('yesterday')
    await dialog.getByRole('button', { name: 'Freeze', exact: true }).click()
    // The API's problem sits under the field it names.
    await dialog
      .locator('#freeze-until-error')
      .getByText(/must be a duration such as 2h/)
      .waitFor()
    assert.equal(await dialog.getByLabel('Until').getAttribute('aria-invalid'), 'true')
    await screenshot(page, 'holds-10-freeze-dialog-error')
    await page.setViewportSize(PHONE)
    assert.equal(await horizontalOverflow(page), 0)
    await screenshot(page, 'holds-10-freeze-dialog-error-phone')
    await page.setViewportSize(DESKTOP)
    await dialog.getByLabel('Until').fill('2h')
    await dialog.getByLabel('Message').fill('release week')
    await dialog.getByRole('button', { name: 'Freeze', exact: true }).click()
    const banner = page.getByTestId('freeze-banner')
    await banner.getByText('release week').waitFor()
    assert.match(
      await banner.innerText(),
      /^Frozen until .+ \(in 2 hours\): release week — by DECKHAND_ADMIN_TOKEN/,
    )
    await page.getByTestId('frozen').first().waitFor()
    assert.equal(await page.getByRole('button', { name: 'Freeze…' }).count(), 0)
    await screenshot(page, 'holds-11-service-frozen')
    await page.setViewportSize(PHONE)
    assert.equal(await horizontalOverflow(page), 0)
    await screenshot(page, 'holds-12-service-frozen-phone')
    await page.setViewportSize(DESKTOP)

    const id = await heldCall(server, url)
    await page.goto('/')
    await page.getByRole('row', { name: /web/ }).getByTestId('frozen').waitFor()
    await screenshot(page, 'holds-13-services-frozen')
    await page.setViewportSize(PHONE)
    assert.equal(await horizontalOverflow(page), 0)
    await screenshot(page, 'holds-13-services-frozen-phone')
    await page.setViewportSize(DESKTOP)

    await page.goto(`/deployments/${id}`)
    const line = page.getByTestId('hold-line')
    await line.waitFor()
    assert.match(await line.innerText(), /^Held until .+ \(in 2 hours\): frozen: release week$/)
    assert.equal(await page.getByTestId('deployment-state').innerText(), 'held')
    // Held is told apart from awaiting approval by its colour too, not only its word.
    const colours = await page.evaluate(() =>
      ['held', 'awaiting-approval'].map((state) => {
        const badge = document.createElement('span')
        badge.className = `badge badge-${state}`
        document.body.append(badge)
        const colour = getComputedStyle(badge).backgroundColor
        badge.remove()
        return colour
      }),
    )
    assert.notEqual(colours[0], colours[1])
    await page.getByRole('button', { name: 'Cancel deployment' }).waitFor()
    await screenshot(page, 'holds-14-deployment-held')
    await page.setViewportSize(PHONE)
    assert.equal(await horizontalOverflow(page), 0)
    await screenshot(page, 'holds-15-deployment-held-phone')
    await page.setViewportSize(DESKTOP)
    await page.getByTestId('hold').getByLabel('Note (optional)').fill('hotfix for incident 42')
    await page.getByRole('button', { name: 'Start now' }).click()
    await page.getByTestId('deployment-state').getByText('succeeded').waitFor()
    assert.equal(await page.getByTestId('hold').count(), 0)
    assert.ok(
      server.logs.some((l) => l.includes('started held') && l.includes('hotfix for incident 42')),
    )

    // A call held when the banner unfreezes the service runs then.
    const second = await heldCall(server, url)
    await page.goto('/services/web')
    await page.getByTestId('freeze-banner').getByRole('button', { name: 'Unfreeze' }).click()
    const confirm = page.getByRole('dialog', { name: 'Unfreeze web?' })
    await confirm.waitFor()
    await screenshot(page, 'holds-16-unfreeze-confirm')
    await confirm.getByRole('button', { name: 'Unfreeze' }).click()
    await page.getByRole('button', { name: 'Freeze…' }).waitFor()
    await waitFor(
      async () =>
        (await server.api('GET', `/api/v1/deployments/${second}`)).body.state === 'succeeded' ||
        undefined,
      { what: 'the held deployment to run once unfrozen' },
    )
    await page.setViewportSize(PHONE)
    assert.equal(await horizontalOverflow(page), 0)
    await screenshot(page, 'holds-17-service-unfrozen-phone')
    assert.equal(await page.getByTestId('freeze-banner').count(), 0)
    assert.equal(await page.getByTestId('frozen').count(), 0)
    // Without a badge the header's badge line takes no room.
    const display = await page
      .locator('.awaiting-line')
      .evaluate((p) => getComputedStyle(p).display)
    assert.equal(display, 'none')
    assert.equal((await server.api('GET', '/api/v1/services/web')).body.freeze, undefined)
    // The one 400 is the refused "yesterday", which the dialog showed.
    assert.deepEqual(
      errors.filter((e) => !/status of 400/.test(e)),
      [],
    )
  },
)

test(
  'a freeze without an end holds a Redeploy until unfrozen; the held one is canceled on its page',
  { skip },
  async (t) => {
    const { server, page, errors } = await uiSession(t, browser(), {
      services: [commandService('web')],
      viewport: DESKTOP,
    })
    await page.goto('/services/web')
    await page.getByRole('button', { name: 'Freeze…' }).click()
    const dialog = page.getByRole('dialog', { name: 'Freeze web' })
    await dialog.getByLabel('Message').fill('audit')
    await dialog.getByRole('button', { name: 'Freeze', exact: true }).click()
    await page
      .getByTestId('freeze-banner')
      .getByText(/^Frozen until unfrozen: audit/)
      .waitFor()
    assert.equal((await server.api('GET', '/api/v1/services/web')).body.freeze.until, null)

    await page.getByRole('button', { name: 'Redeploy' }).click()
    const banner = page.getByTestId('deployment-banner')
    await banner.getByText('Deployment held (frozen: audit)').waitFor()
    await banner.getByRole('link').click()
    await page.getByTestId('hold-line').getByText('Held until unfrozen: frozen: audit').waitFor()
    const id = page.url().split('/').at(-1)!
    await page.getByRole('button', { name: 'Cancel deployment' }).click()
    await page.getByTestId('deployment-state').getByText('canceled').waitFor()
    assert.equal(await page.getByTestId('hold').count(), 0)
    assert.equal((await server.api('GET', `/api/v1/deployments/${id}`)).body.state, 'canceled')
    assert.deepEqual(errors, [])
  },
)

test(
  'a deployment awaiting approval can be started now, without the votes it lacks',
  { skip },
  async (t) => {
    const { server, page, errors } = await uiSession(t, browser(), {
      services: [
        commandService('web', 'echo deployed', { deploy: { approvals: { required: 2 } } }),
      ],
    })
    const queued = await server.api('POST', '/api/v1/services/web/deployments', {
      action: 'redeploy',
    })
    assert.equal(queued.body.status, 'awaiting-approval')
    const id: string = queued.body.deployments[0].id
    await page.goto(`/deployments/${id}`)
    const hold = page.getByTestId('hold')
    await hold.getByText(/without the approvals it still lacks/).waitFor()
    // Only a held deployment has a hold line; this one waits for votes, which the panel shows.
    assert.equal(await page.getByTestId('hold-line').count(), 0)
    await hold.getByRole('button', { name: 'Start now' }).click()
    await page.getByTestId('deployment-state').getByText('succeeded').waitFor()
    assert.ok(server.logs.some((l) => l.includes(`started awaiting-approval deployment ${id}`)))
    assert.deepEqual(errors, [])
  },
)
