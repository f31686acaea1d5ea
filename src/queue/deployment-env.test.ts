// The tag a deployment runs: one `tag` on its params, read by the driver and DECKHAND_IMAGE_TAG.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { changeWithTag } from '../drivers/driver.ts'
import type { Deployment, Service } from '../model/index.ts'
import { redeployChange } from './deployment-env.ts'

const service = { name: 'web', tag: '1.0' } as Service
const deployment = (params: Deployment['params']): Deployment =>
  ({
    id: 'dpl_1',
    params,
    input: {
      triggerName: 'ci',
      env: { SERVICE_TAG: 'dev' },
      body: null,
      bodyTooLarge: false,
      gitCommit: 'abc',
      gitBranch: null,
    },
  }) as unknown as Deployment

test("the deployment's tag is the change's tag and its DECKHAND_IMAGE_TAG", () => {
  const change = redeployChange(service, deployment({ tag: 'v2' }))
  assert.equal(change.tag, 'v2')
  assert.deepEqual(change.env, {
    SERVICE_TAG: 'dev',
    DECKHAND_DEPLOYMENT_ID: 'dpl_1',
    DECKHAND_TRIGGER_NAME: 'ci',
    DECKHAND_GIT_COMMIT: 'abc',
    DECKHAND_IMAGE_TAG: 'v2',
  })
})

test('with no tag the change keeps the running one; DECKHAND_IMAGE_TAG names it when known', () => {
  const kept = redeployChange(service, deployment({}))
  assert.equal(kept.tag, undefined)
  assert.equal(kept.env.DECKHAND_IMAGE_TAG, '1.0')
  const unknown = redeployChange({ ...service, tag: null }, deployment({}))
  assert.equal('DECKHAND_IMAGE_TAG' in unknown.env, false)
})

test("a tag set later (a git build's) moves the change and its variable together", () => {
  const built = changeWithTag(redeployChange(service, deployment({ tag: 'v2' })), 'abc1234')
  assert.equal(built.tag, 'abc1234')
  assert.equal(built.env.DECKHAND_IMAGE_TAG, 'abc1234')
})
