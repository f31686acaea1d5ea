import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { checkDestination, privateAddressReason, readCallbackHosts } from './outgoing-policy.ts'

describe('the address classifier', () => {
  const refused = [
    '127.0.0.1',
    '127.8.9.10',
    '0.0.0.0',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '100.127.255.255',
    '::',
    '::1',
    '[::1]',
    'fe80::1',
    'febf::1',
    'fc00::1',
    'fd12:3456::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '::ffff:10.0.0.1',
  ]
  const publicOnes = [
    '1.1.1.1',
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '192.169.0.1',
    '2606:4700::1111',
    '::ffff:808:808',
    'fec0::1',
  ]
  for (const address of refused) {
    it(`refuses ${address}`, () =>
      assert.match(
        privateAddressReason(address) ?? '',
        /loopback, link-local, private or unspecified/,
      ))
  }
  for (const address of publicOnes) {
    it(`allows ${address}`, () => assert.equal(privateAddressReason(address), undefined))
  }
  it('calls a host name not an address', () =>
    assert.match(privateAddressReason('localhost') ?? '', /not an IP address/))
})

describe('checkDestination', () => {
  const defaults = readCallbackHosts(undefined)
  const table: [string, RegExp | 'ok'][] = [
    ['https://registry.hub.docker.com/u/acme/web/hook/x/', 'ok'],
    ['https://hub.docker.com/x', 'ok'],
    ['https://api.docker.com/x', 'ok'],
    ['https://docker.com.evil.example/x', /not in DECKHAND_CALLBACK_HOSTS/],
    ['https://evildocker.com/x', /not in DECKHAND_CALLBACK_HOSTS/],
    ['file:///etc/passwd', /only http and https/],
    ['gopher://127.0.0.1:70/x', /only http and https/],
    ['https://user:pass@hub.docker.com/x', /carrying credentials/],
    ['http://127.0.0.1/x', /not in DECKHAND_CALLBACK_HOSTS/],
    ['http://localhost/x', /not in DECKHAND_CALLBACK_HOSTS/],
  ]
  for (const [url, expected] of table) {
    it(`${url} with the default hosts: ${expected}`, () => {
      const result = checkDestination(url, defaults)
      if (expected === 'ok') {
        assert.equal(result.ok, true)
      } else {
        assert.equal(result.ok, false)
        assert.match(result.ok ? '' : result.reason, expected)
      }
    })
  }
  it('a listed address is the operator opting in, on its port only when the entry names one', () => {
    const hosts = readCallbackHosts('127.0.0.1:8099, 10.0.0.5,  ')
    assert.equal(checkDestination('http://127.0.0.1:8099/x', hosts).ok, true)
    assert.equal(
      checkDestination('http://0x7f.1:8099/x', hosts).ok,
      true,
      'the same address, written otherwise',
    )
    assert.equal(checkDestination('http://127.0.0.1:8098/x', hosts).ok, false)
    assert.equal(checkDestination('http://10.0.0.5:1234/x', hosts).ok, true)
  })
  it('a listed host name must still resolve to public addresses', () => {
    const result = checkDestination('http://localhost/x', readCallbackHosts('localhost'))
    assert.equal(result.ok && typeof result.lookup, 'function')
  })
  it('a private address under an allowed glob is refused', () => {
    const result = checkDestination(
      'http://[::1]/x',
      readCallbackHosts('*.docker.com,::1.docker.com'),
    )
    assert.equal(result.ok, false)
  })
})
