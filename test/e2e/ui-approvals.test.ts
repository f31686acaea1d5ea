/** Approvals in the UI, in Chromium: the badge on the services, the votes, Approve and Reject. */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import type { Browser } from 'playwright-core'

import {
  browserSkipReason,
  buildWebIfStale,
  launchBrowser,
  openPage,
  screenshot,
  signIn,
} from '../support/browser.ts'
import { commandService, startTestServer } from '../support/start-server.ts'

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

test(
  'a deployment awaiting approval is badged on the service, lists its votes, and is approved or rejected with a note',
  { skip },
  async (t) => {
    const server = await startTestServer(t)
    await server.api(
      'POST',
      '/api/v1/services',
      commandService('web', 'echo deployed', { deploy: { approvals: { required: 2 } } }),
    )
    const trigger = await server.api('POST', '/api/v1/services/web/triggers', {
      action: 'redeploy',
    })
    const first = (await server.hook(`${trigger.body.url}?tag=5`)).body.deployments[0].id
    const alice = (await server.api('POST', '/api/v1/tokens', { name: 'alice' })).body.token
    const voted = await fetch(`${server.url}/api/v1/deployments/${first}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ note: 'tests are green' }),
    })
    assert.equal(voted.status, 200)

    const { page, context, errors } = await openPage(browser!, server.url)
    t.after(() => context.close())
    await signIn(page, server)
    const badge = page.getByTestId('awaiting-approval')
    await badge.getByText('awaiting approval').waitFor()
    await screenshot(page, '95-services-awaiting-approval')
    await badge.click()
    await page.waitForURL(`**/deployments/${first}`)
    const panel = page.getByTestId('approvals')
    await panel.getByText('1 of 2 approvals').waitFor()
    await panel.locator('li[data-vote="approve"]', { hasText: 'alice' }).waitFor()
    assert.match(await panel.innerText(), /tests are green/)
    assert.match(await page.getByTestId('deployment-state').innerText(), /awaiting-approval/)
    await panel.getByLabel('Note (optional)').fill('ok from the UI')
    await screenshot(page, '96-deployment-awaiting-approval')
    await panel.getByRole('button', { name: 'Approve' }).click()
    await page.getByTestId('deployment-state').getByText('succeeded').waitFor()
    await panel.getByText('2 of 2 approvals').waitFor()
    await panel
      .locator('li', { hasText: 'DECKHAND_ADMIN_TOKEN' })
      .getByText('ok from the UI')
      .waitFor()
    assert.equal(await panel.getByRole('button', { name: 'Approve' }).count(), 0)
    await screenshot(page, '97-deployment-approved')

    const second = (await server.hook(`${trigger.body.url}?tag=6`)).body.deployments[0].id
    await page.goto('/services/web/deployments')
    await page.getByTestId('awaiting-approval').waitFor()
    await page.goto(`/deployments/${second}`)
    await page.getByTestId('approvals').getByLabel('Note (optional)').fill('not on a Friday')
    await page.getByTestId('approvals').getByRole('button', { name: 'Reject' }).click()
    await page.getByTestId('deployment-state').getByText('canceled').waitFor()
    assert.match(
      await page.getByTestId('deployment-error').innerText(),
      /rejected by DECKHAND_ADMIN_TOKEN: not on a Friday/,
    )
    await screenshot(page, '98-deployment-rejected')
    await page.goto('/')
    await page.getByRole('link', { name: 'web', exact: true }).waitFor()
    assert.equal(await page.getByTestId('awaiting-approval').count(), 0)
    assert.deepEqual(errors, [])
  },
)
