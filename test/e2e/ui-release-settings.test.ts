/** Release control in the UI, in Chromium: the Settings tab's fields and a trigger's conditions. */
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'

import type { Page } from 'playwright-core'

import { describeMatch } from '../../web/src/describe-match.ts'
import { horizontalOverflow } from '../support/browser.ts'
import { commandService } from '../support/start-server.ts'
import { uiSession, useBrowser } from '../support/ui-session.ts'

const { skip, browser } = useBrowser()
const PHONE = { width: 390, height: 844 }
const LAPTOP = { width: 1280, height: 800 }
const SHOTS = mkdtempSync(join(tmpdir(), 'deckhand-ui-release-'))

/** A full-page screenshot at a laptop's and a phone's width; at the phone's, nothing overflows. */
async function screenshots(t: TestContext, page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}-1280.png`), fullPage: true })
  await page.setViewportSize(PHONE)
  assert.equal(await horizontalOverflow(page), 0, `${name}: the page is wider than a phone`)
  await page.screenshot({ path: join(SHOTS, `${name}-390.png`), fullPage: true })
  await page.setViewportSize(LAPTOP)
  t.diagnostic(`screenshots in ${SHOTS}`)
}

test(
  'Release control saves approvals, a window, a hook and GitLab statuses; problems sit under their fields; cleared settings are removed',
  { skip },
  async (t) => {
    const { server, page, errors } = await uiSession(t, browser(), {
      services: [
        commandService('web', 'echo deployed', {
          deploy: { approvals: { required: 1 } },
          // Its token is never shown back: saving must leave the untouched block alone.
          github: { token: 'ghp_kept' },
        }),
      ],
      viewport: LAPTOP,
    })
    const read = async () => (await server.api('GET', '/api/v1/services/web')).body

    await page.goto('/services/web/settings')
    const form = page.getByRole('form', { name: 'Release control' })
    const approve = form.getByLabel('Each deployment waits for admins to approve it')
    assert.equal(await approve.isChecked(), true)
    assert.equal(await form.getByLabel('Approvals required').inputValue(), '1')
    assert.equal(await form.getByLabel('Deadline').inputValue(), '24h')

    // A count out of range is refused before anything is sent.
    const before = await read()
    await form.getByLabel('Approvals required').fill('11')
    await form.getByRole('button', { name: 'Save release control' }).click()
    assert.match(await form.locator('#approvals-required-error').innerText(), /1 to 10/)
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'approvals-required')
    assert.equal((await read()).updatedAt, before.updatedAt)

    await form.getByLabel('Approvals required').fill('2')
    await form.getByLabel('Deadline').fill('12h')
    await form.getByRole('button', { name: 'Add a window' }).click()
    const window = form.getByRole('listitem', { name: 'Change window 1' })
    await window.getByLabel('Days').fill('mon-fri')
    await window.getByLabel('Hours').fill('09:00-17:00')
    await window.getByLabel('Timezone').fill('Mars/Olympus_Mons')
    await form.getByLabel('Before each deployment').fill('echo checking $DECKHAND_SERVICE')
    await form.getByLabel('Timeout (before)').fill('30s')
    await form.getByLabel('GitLab commit statuses').check()
    await form.getByLabel('Token variable').fill('AWS_SECRET_ACCESS_KEY')
    await form.getByRole('button', { name: 'Save release control' }).click()
    // The alert of the refused count above may still show: the API's answer is the field's error.
    await form.locator('#window-0-timezone-error').waitFor()
    await form.getByRole('alert').filter({ hasText: 'Release control was not saved' }).waitFor()
    // The API's own words, under the fields it named.
    const zone = form.locator('#window-0-timezone')
    assert.equal(await zone.getAttribute('aria-invalid'), 'true')
    assert.match(
      await form.locator('#window-0-timezone-error').innerText(),
      /must be an IANA time zone/,
    )
    assert.match((await zone.getAttribute('aria-describedby')) ?? '', /window-0-timezone-error/)
    assert.match(
      await form.locator('#gitlab-token-env-error').innerText(),
      /must be DECKHAND_GITLAB_TOKEN/,
    )
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'window-0-timezone')
    const refused = await read()
    assert.equal(refused.updatedAt, before.updatedAt)
    assert.deepEqual(refused.deploy.approvals, { required: 1, deadline: '24h' })
    await screenshots(t, page, 'release-control-problems')

    await window.getByLabel('Timezone').fill('Europe/Berlin')
    await form.getByLabel('Token variable').fill('DECKHAND_GITLAB_TOKEN_WEB')
    await form.getByRole('button', { name: 'Save release control' }).click()
    await form.getByRole('status').filter({ hasText: 'Release control saved.' }).waitFor()
    const saved = await read()
    assert.deepEqual(saved.deploy.approvals, { required: 2, deadline: '12h' })
    assert.deepEqual(saved.deploy.windows, [
      { days: 'mon-fri', hours: '09:00-17:00', timezone: 'Europe/Berlin' },
    ])
    assert.deepEqual(saved.deploy.before, {
      run: 'echo checking $DECKHAND_SERVICE',
      timeout: '30s',
    })
    assert.equal(saved.deploy.after, undefined)
    assert.deepEqual(saved.gitlab, { tokenEnv: 'DECKHAND_GITLAB_TOKEN_WEB' })
    assert.deepEqual(saved.github, { hasToken: true })
    assert.equal(await form.getByLabel('GitHub deployments and statuses').isChecked(), true)
    await screenshots(t, page, 'release-control-saved')

    // Cleared: approvals and the hook are sent as null, and the API removes them.
    await approve.uncheck()
    await form.getByLabel('Before each deployment').fill('')
    await form.getByRole('button', { name: 'Save release control' }).click()
    await form.getByRole('status').filter({ hasText: 'Release control saved.' }).waitFor()
    const cleared = await read()
    assert.equal(cleared.deploy.approvals, undefined)
    assert.equal(cleared.deploy.before, undefined)
    assert.deepEqual(cleared.deploy.windows, saved.deploy.windows)
    assert.deepEqual(cleared.gitlab, saved.gitlab)

    // The other form sends only its own fields: its older copy brings no approvals back.
    const policies = page.getByRole('form', { name: 'Scale and policies' })
    await policies.getByLabel('Health timeout').fill('90s')
    await policies.getByRole('button', { name: 'Save settings' }).click()
    await policies.getByRole('status').filter({ hasText: 'Saved.' }).waitFor()
    const after = await read()
    assert.equal(
      after.deploy.healthTimeout,
      await policies.getByLabel('Health timeout').inputValue(),
    )
    assert.equal(after.deploy.approvals, undefined)
    assert.deepEqual(after.deploy.windows, saved.deploy.windows)

    await window.getByRole('button', { name: 'Remove change window 1' }).click()
    await form.getByRole('button', { name: 'Save release control' }).click()
    await form.getByLabel('GitHub deployments and statuses').uncheck()
    await form.getByRole('button', { name: 'Save release control' }).click()
    await form.getByRole('status').filter({ hasText: 'Release control saved.' }).waitFor()
    const last = await read()
    assert.equal(last.deploy.windows, undefined)
    assert.equal(last.github, undefined)
    // The browser logs the refused PATCH itself; that 400 is part of this test.
    assert.deepEqual(
      errors.filter((e) => !/status of 400/.test(e)),
      [],
    )
  },
)

test(
  'a trigger made with call conditions lists them in one line; a call that does not match is 200 ignored',
  { skip },
  async (t) => {
    const { server, page, errors } = await uiSession(t, browser(), {
      services: [commandService('web')],
      viewport: LAPTOP,
    })
    await page.goto('/services/web/triggers')
    await page.getByRole('button', { name: 'Add trigger' }).click()
    const dialog = page.getByRole('dialog', { name: 'Add a trigger to web' })
    await dialog.getByLabel('Name', { exact: true }).fill('prod-only')
    await dialog.getByRole('button', { name: 'Add a condition' }).click()
    const first = dialog.getByRole('listitem', { name: 'Condition 1' })
    await first.getByLabel('Header name').fill('X-Env')
    await first.getByLabel('Value').fill('prod')
    await dialog.getByRole('button', { name: 'Add a condition' }).click()
    const second = dialog.getByRole('listitem', { name: 'Condition 2' })
    await second.getByLabel('Source').selectOption('body')
    await second.getByLabel('Body path').fill('ref')
    await second.getByLabel('Test').selectOption('regex')
    // A back-reference: RE2 has none, and the API says so under the value.
    await second.getByLabel('Value').fill('(main)\\1')
    await dialog.getByRole('button', { name: 'Add trigger' }).click()
    const problem = dialog.locator('#match-1-value-error')
    assert.match(await problem.innerText(), /linear-time RE2 engine/)
    assert.equal(await dialog.locator('#match-1-value').getAttribute('aria-invalid'), 'true')
    assert.equal((await server.api('GET', '/api/v1/services/web/triggers')).body.items.length, 0)
    await screenshots(t, page, 'trigger-condition-problem')

    await second.getByLabel('Value').fill('^refs/heads/main$')
    await dialog.getByRole('button', { name: 'Add trigger' }).click()
    const shown = page.getByRole('dialog', { name: 'URL of trigger prod-only' })
    const url = await shown.getByLabel('Trigger URL').inputValue()
    await shown.getByRole('button', { name: 'Done' }).click()
    const row = page.locator('tr[data-trigger="prod-only"]')
    assert.equal(
      await row.locator('td[data-label="Conditions"]').innerText(),
      'header x-env equals prod and body ref matches ^refs/heads/main$',
    )
    const stored = (await server.api('GET', '/api/v1/services/web/triggers')).body.items[0]
    assert.deepEqual(stored.match, {
      all: [
        { header: 'x-env', equals: 'prod' },
        { body: 'ref', regex: '^refs/heads/main$' },
      ],
    })
    await screenshots(t, page, 'trigger-conditions-listed')

    const body = JSON.stringify({ ref: 'refs/heads/main' })
    const json = { 'content-type': 'application/json' }
    const staging = await server.hook(url, { body, headers: { ...json, 'x-env': 'staging' } })
    assert.equal(staging.status, 200)
    assert.equal(staging.body.status, 'ignored')
    assert.match(staging.body.reason, /match\.all\[0\]: wanted header x-env equals "prod"/)
    const prod = await server.hook(url, { body, headers: { ...json, 'x-env': 'prod' } })
    assert.equal(prod.status, 202)

    // Nested groups are written as JSON; its problems sit under the box.
    await page.getByRole('button', { name: 'Add trigger' }).click()
    await dialog.getByLabel('Name', { exact: true }).fill('nested')
    await dialog.getByRole('button', { name: /Write as JSON/ }).click()
    const box = dialog.getByLabel('Conditions as JSON')
    assert.match(await box.inputValue(), /skip deploy/)
    await box.fill('{"any": [')
    await dialog.getByRole('button', { name: 'Add trigger' }).click()
    assert.match(await dialog.locator('#match-json-error').innerText(), /not valid JSON/)
    await box.fill('{"any": []}')
    await dialog.getByRole('button', { name: 'Add trigger' }).click()
    await dialog.locator('#match-json-error', { hasText: 'match.any: must be a list' }).waitFor()
    await screenshots(t, page, 'trigger-json-problem')
    await box.fill(
      '{"any": [{"query": "env", "equals": "prod"}, {"not": {"header": "X-Skip", "exists": true}}]}',
    )
    await dialog.getByRole('button', { name: 'Add trigger' }).click()
    await page
      .getByRole('dialog', { name: 'URL of trigger nested' })
      .getByRole('button', { name: 'Done' })
      .click()
    assert.equal(
      await page.locator('tr[data-trigger="nested"] td[data-label="Conditions"]').innerText(),
      'query env equals prod or not header x-skip exists',
    )
    assert.deepEqual(
      errors.filter((e) => !/status of 400/.test(e)),
      [],
    )
  },
)

test('the triggers list reads nested conditions in one line, groups in parentheses', () => {
  const line = describeMatch({
    all: [
      { header: 'x-gitlab-event', in: ['Push Hook', 'Tag Push Hook'] },
      {
        any: [
          { query: 'env', equals: 'prod' },
          { body: 'commits[0].id', exists: true },
        ],
      },
      { not: { body: 'user_username', equals: 'release-bot' } },
      { query: 'debug', exists: false },
      { body: 'size', equals: 5 },
    ],
  })
  assert.equal(
    line,
    'header x-gitlab-event in Push Hook, Tag Push Hook' +
      ' and (query env equals prod or body commits[0].id exists)' +
      ' and not body user_username equals release-bot and no query debug and body size equals 5',
  )
})
