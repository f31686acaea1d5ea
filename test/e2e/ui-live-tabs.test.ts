/**
 * The UI in Chromium: the Deployments and Triggers tabs follow the service's event stream, so a
 * change made by a call shows without a reload and without a poll. The page's clock is paused:
 * no interval fires, so only the stream can have brought the change.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { horizontalOverflow, screenshot } from '../support/browser.ts'
import { commandService } from '../support/start-server.ts'
import { uiSession, useBrowser } from '../support/ui-session.ts'

const { skip, browser } = useBrowser()
const PHONE = { width: 390, height: 844 }

for (const viewport of [undefined, PHONE]) {
  const size = viewport ? 'phone' : 'laptop'
  test(
    `on a ${size}, a deployment and a trigger made by calls appear in their tabs with no poll`,
    { skip },
    async (t) => {
      const { page, server, errors } = await uiSession(t, browser(), {
        services: [commandService('web')],
        ...(viewport ? { viewport } : {}),
      })
      const lists: string[] = []
      page.on('request', (request) => {
        const url = new URL(request.url())
        if (url.pathname.startsWith('/api/v1/') && !url.pathname.endsWith('/events')) {
          lists.push(`${url.pathname}${url.search}`)
        }
      })
      await page.clock.install()
      await page.goto('/services/web/deployments')
      await page.getByText('No deployments yet').waitFor()
      // Time stops here: from now on a change can only come through the event stream.
      await page.clock.pauseAt(Date.now() + 1000)
      const first = await server.api('POST', '/api/v1/services/web/deployments', {
        action: 'redeploy',
      })
      const id: string = first.body.deployments[0].id
      await page.locator('[data-live="true"]').waitFor()
      const row = page.locator('tr', { has: page.locator(`a[href="/deployments/${id}"]`) })
      await row.filter({ hasText: 'succeeded' }).waitFor()
      const second = await server.api('POST', '/api/v1/services/web/deployments', {
        action: 'redeploy',
      })
      const next: string = second.body.deployments[0].id
      await page.getByRole('link', { name: next }).waitFor()
      // The header's last deployment follows the stream too, not its own timer.
      await page
        .locator(`.summary [data-deployment="${next}"]`)
        .filter({ hasText: 'succeeded' })
        .waitFor()
      // The 30-day chart re-reads its page on the stream's events too.
      await page
        .getByTestId('chart-summary')
        .filter({ hasText: /^2 deployments/ })
        .waitFor()
      await screenshot(page, `live-deployments-${size}`)
      assert.equal(await horizontalOverflow(page), 0)

      await page.getByRole('tab', { name: /Triggers/ }).click()
      await page.getByText('ci-live').waitFor({ state: 'detached' })
      const trigger = await server.api('POST', '/api/v1/services/web/triggers', {
        action: 'redeploy',
        name: 'ci-live',
      })
      assert.equal(trigger.status, 201)
      await page.getByText('ci-live').first().waitFor()
      await screenshot(page, `live-triggers-${size}`)
      // Each list was read on a stream's event (or on opening its tab), never on a timer: the
      // deployments list at most once per state of each of the two deployments, plus its first read.
      const deploymentReads = lists.filter((p) =>
        p.startsWith('/api/v1/deployments?service=web&limit=50'),
      )
      assert.ok(deploymentReads.length <= 1 + 1 + 2 * 3, deploymentReads.join('\n'))
      assert.deepEqual(errors, [])
    },
  )
}
