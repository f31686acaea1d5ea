import assert from 'node:assert/strict'
import { test } from 'node:test'

import type { ChangeWindow } from '../model/index.ts'
import { freezeUntil, parseFreeze } from './freeze.ts'
import { holdFor } from './hold.ts'
import { isOpen, nextOpening, parseDays, parseHours, parseWindow } from './windows.ts'

const at = (iso: string): number => Date.parse(iso)
const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString()

const berlinOffice: ChangeWindow[] = [
  { days: 'mon-fri', hours: '09:00-17:00', timezone: 'Europe/Berlin' },
]

test('days parse ranges, lists and ranges that wrap past Sunday', () => {
  assert.deepEqual([...parseDays('mon-wed,fri')!].sort(), [1, 2, 3, 5])
  assert.deepEqual([...parseDays('sat,sun')!].sort(), [0, 6])
  assert.deepEqual([...parseDays('fri-mon')!].sort(), [0, 1, 5, 6])
  assert.deepEqual([...parseDays('MON')!], [1])
  for (const bad of ['funday', 'mon-', 'mon-tue-wed', '', 'mon,,tue', 'x'.repeat(100)]) {
    assert.equal(parseDays(bad), undefined, bad)
  }
})

test('hours parse a range, one past midnight and an end of 24:00; malformed ones are refused', () => {
  assert.deepEqual(parseHours('09:00-17:00'), { start: 540, end: 1020 })
  assert.deepEqual(parseHours('22:00-02:00'), { start: 1320, end: 120 })
  assert.deepEqual(parseHours('00:00-24:00'), { start: 0, end: 1440 })
  for (const bad of [
    '9-17',
    '25:00-26:00',
    '09:00-09:00',
    '09:00',
    '09:00-17:00-18:00',
    '9:0-10:0',
  ]) {
    assert.equal(parseHours(bad), undefined, bad)
  }
})

test('a window names the field that is wrong, and refuses a zone Intl does not know', () => {
  const zone = parseWindow({ days: 'mon', hours: '09:00-10:00', timezone: 'Mars/Olympus' })
  assert.equal(zone.ok === false && zone.field, 'timezone')
  const days = parseWindow({ days: 'monday', hours: '09:00-10:00', timezone: 'UTC' })
  assert.equal(days.ok === false && days.field, 'days')
  const hours = parseWindow({ days: 'mon', hours: '9am', timezone: 'UTC' })
  assert.equal(hours.ok === false && hours.field, 'hours')
  assert.equal(parseWindow(berlinOffice[0]!).ok, true)
})

test('Berlin mon-fri 09:00-17:00 is open on Friday at 16:59 and closed from 17:00 until Monday 09:00', () => {
  // December: Berlin is UTC+1.
  assert.equal(isOpen(berlinOffice, at('2026-12-04T15:59:00Z')), true)
  assert.equal(nextOpening(berlinOffice, at('2026-12-04T15:59:00Z')), at('2026-12-04T15:59:00Z'))
  assert.equal(isOpen(berlinOffice, at('2026-12-04T16:00:00Z')), false)
  assert.equal(
    iso(nextOpening(berlinOffice, at('2026-12-04T16:00:00Z'))),
    '2026-12-07T08:00:00.000Z',
  )
  // Saturday noon.
  assert.equal(isOpen(berlinOffice, at('2026-12-05T11:00:00Z')), false)
  assert.equal(
    iso(nextOpening(berlinOffice, at('2026-12-05T11:00:00Z'))),
    '2026-12-07T08:00:00.000Z',
  )
  // Monday 08:59 Berlin is still closed; Friday 23:30 UTC is Saturday in Berlin.
  assert.equal(isOpen(berlinOffice, at('2026-12-07T07:59:00Z')), false)
  assert.equal(isOpen(berlinOffice, at('2026-12-04T23:30:00Z')), false)
})

test('09:00 Berlin is 07:00 UTC in summer, and a wait across the end of summer time opens at 08:00 UTC', () => {
  assert.equal(isOpen(berlinOffice, at('2026-07-03T06:59:00Z')), false)
  assert.equal(isOpen(berlinOffice, at('2026-07-03T07:00:00Z')), true)
  assert.equal(isOpen(berlinOffice, at('2026-07-03T14:59:00Z')), true)
  assert.equal(isOpen(berlinOffice, at('2026-07-03T15:00:00Z')), false)
  // Asked on Saturday 24 October (UTC+2); summer time ends on Sunday; Monday is UTC+1.
  assert.equal(
    iso(nextOpening(berlinOffice, at('2026-10-24T10:00:00Z'))),
    '2026-10-26T08:00:00.000Z',
  )
})

test('a window that opens in the hour spring skips opens when the clock jumps', () => {
  // 29 March 2026: Berlin goes from 02:00 CET straight to 03:00 CEST (01:00 UTC).
  const windows = [{ days: 'sun', hours: '02:30-04:00', timezone: 'Europe/Berlin' }]
  assert.equal(iso(nextOpening(windows, at('2026-03-28T23:00:00Z'))), '2026-03-29T01:00:00.000Z')
  assert.equal(isOpen(windows, at('2026-03-29T01:30:00Z')), true)
})

test('America/Los_Angeles: Friday afternoon there is Saturday in Berlin', () => {
  const pacific = [{ days: 'mon-fri', hours: '09:00-17:00', timezone: 'America/Los_Angeles' }]
  // 23:30 UTC on Friday 4 December is 15:30 PST.
  assert.equal(isOpen(pacific, at('2026-12-04T23:30:00Z')), true)
  assert.equal(isOpen(pacific, at('2026-12-05T01:00:00Z')), false)
  assert.equal(iso(nextOpening(pacific, at('2026-12-05T01:00:00Z'))), '2026-12-07T17:00:00.000Z')
  // Both windows: the earlier opening wins.
  const both = [...berlinOffice, ...pacific]
  assert.equal(iso(nextOpening(both, at('2026-12-05T01:00:00Z'))), '2026-12-07T08:00:00.000Z')
  assert.equal(isOpen(both, at('2026-12-04T17:00:00Z')), true)
})

test('a 22:00-02:00 window opens on its day and stays open past midnight into the next one', () => {
  const night = [{ days: 'fri', hours: '22:00-02:00', timezone: 'UTC' }]
  assert.equal(isOpen(night, at('2026-12-04T21:59:00Z')), false)
  assert.equal(iso(nextOpening(night, at('2026-12-04T21:59:00Z'))), '2026-12-04T22:00:00.000Z')
  assert.equal(isOpen(night, at('2026-12-04T23:59:00Z')), true)
  assert.equal(isOpen(night, at('2026-12-05T01:59:00Z')), true)
  assert.equal(isOpen(night, at('2026-12-05T02:00:00Z')), false)
  // Thursday night is not Friday's: closed, next opening a day later.
  assert.equal(isOpen(night, at('2026-12-04T01:00:00Z')), false)
  assert.equal(iso(nextOpening(night, at('2026-12-05T02:00:00Z'))), '2026-12-11T22:00:00.000Z')
})

test('a service is held by its freeze first, then by its windows, until the freeze ends', () => {
  const service = {
    deploy: { windows: berlinOffice },
    freeze: { until: '2026-12-04T12:00:00.000Z', message: 'release party', by: 'ops', at: '' },
  } as never
  assert.deepEqual(holdFor(service, at('2026-12-04T10:00:00Z')), {
    until: '2026-12-04T12:00:00.000Z',
    reason: 'frozen: release party',
  })
  // Freeze over, window open.
  assert.equal(holdFor(service, at('2026-12-04T12:00:00Z')), null)
  // Freeze over, window closed.
  const held = holdFor(service, at('2026-12-05T10:00:00Z'))
  assert.equal(held?.until, '2026-12-07T08:00:00.000Z')
  assert.match(
    held?.reason ?? '',
    /outside the change windows \(mon-fri 09:00-17:00 Europe\/Berlin\)/,
  )
  assert.equal(holdFor({ deploy: {} } as never, 0), null)
})

test('a freeze ends after a duration, at an ISO time, or never; a past time or long message is refused', () => {
  const now = at('2026-12-04T10:00:00Z')
  assert.equal(freezeUntil('2h', now), '2026-12-04T12:00:00.000Z')
  assert.equal(freezeUntil('2026-12-05T10:00:00+01:00', now), '2026-12-05T09:00:00.000Z')
  assert.equal(freezeUntil(null, now), null)
  for (const bad of ['2026-12-01T10:00:00Z', 'soon', '2026-12-05', 5, '0s', '400d']) {
    assert.equal(freezeUntil(bad, now), undefined, String(bad))
  }
  const long = parseFreeze({ message: 'x'.repeat(501) }, 'ops', now)
  assert.equal(long.ok === false && long.field, 'message')
  const good = parseFreeze({ until: '2h', message: ' incident 42 ' }, 'ops', now)
  assert.deepEqual(good.ok && good.value, {
    until: '2026-12-04T12:00:00.000Z',
    message: 'incident 42',
    by: 'ops',
    at: '2026-12-04T10:00:00.000Z',
  })
})
