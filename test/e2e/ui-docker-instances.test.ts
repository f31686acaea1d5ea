/**
 * The UI in Chromium: a docker service's instances table shows what the driver reports for its
 * container (the short id, the published port, the HEALTHCHECK verdict, restarts, the start),
 * on the private dockerd.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { horizontalOverflow, screenshot } from '../support/browser.ts'
import { APP, buildImagesBefore, serverOn, uniqueNames } from '../support/dockerd-setup.ts'
import { privateDockerd, RUN_LABEL } from '../support/private-dockerd.ts'
import { openSignedIn, useBrowser } from '../support/ui-session.ts'
import { waitFor } from '../support/wait-for.ts'

const { skip, browser } = useBrowser()
const handle = await privateDockerd()
buildImagesBefore(handle, {
  'dh-app:2': `ENV APP_VERSION=2\nHEALTHCHECK --interval=100ms --timeout=2s --retries=3 CMD true\n${APP}`,
})
const unique = uniqueNames(handle)

test(
  "a docker service's instance row shows its container, published port and health",
  { skip },
  async (t) => {
    const engine = handle.use(t)
    if (!engine) {
      return
    }
    // The engine runs with --bridge=none: a network of its own is what publishes a port.
    const network = unique('net')
    await engine.docker(['network', 'create', '--label', `${RUN_LABEL}=${engine.runId}`, network])
    t.after(async () => {
      await engine.cleanup()
      await engine.docker(['network', 'rm', network])
    })
    const name = unique('web')
    const id = await engine.run([
      '--name',
      name,
      '--network',
      network,
      '-p',
      '127.0.0.1:18081:80',
      'dh-app:2',
    ])
    const server = await serverOn(t, engine)
    const created = await server.api('POST', '/api/v1/services', {
      name: 'web',
      driver: 'docker',
      target: { container: name },
      image: 'dh-app',
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const [item] = await waitFor(
      async () => {
        const status = (await server.api('GET', '/api/v1/services/web')).body.status
        return status.items[0]?.health === 'healthy' ? status.items : undefined
      },
      { what: `${name} healthy` },
    )
    for (const [size, viewport] of [
      ['laptop', undefined],
      ['phone', { width: 390, height: 844 }],
    ] as const) {
      const { page, errors } = await openSignedIn(t, browser(), server, viewport)
      await page.goto('/services/web')
      const row = page
        .getByRole('table', { name: 'Instances' })
        .locator(`tr[data-instance="${name}"]`)
      await row.filter({ hasText: 'healthy' }).waitFor()
      const cells = await row.locator('td').allInnerTexts()
      assert.deepEqual(cells.slice(0, 5), [
        name,
        id.slice(0, 12),
        '127.0.0.1:18081->80/tcp',
        'running, healthy',
        '0',
      ])
      assert.notEqual(cells[5], '—', `the start is shown: ${item.startedAt}`)
      // Deckhand never scaled it: the field offers the count the runtime runs, not scale.min.
      assert.equal(await page.getByLabel('Replicas', { exact: true }).inputValue(), '1')
      await screenshot(page, `docker-instances-${size}`)
      assert.equal(await horizontalOverflow(page), 0)
      assert.deepEqual(errors, [])
    }
  },
)
