// Where a request driven by a call (Docker Hub's callback_url) may go: http(s), no userinfo, an
// allowed host, a public address checked after DNS and then connected to as checked.
import { lookup as dnsLookup } from 'node:dns/promises'
import { BlockList, isIP, type LookupFunction } from 'node:net'

/** DECKHAND_CALLBACK_HOSTS when unset: Docker Hub's own hosts. */
export const DEFAULT_CALLBACK_HOSTS = 'hub.docker.com,registry.hub.docker.com,*.docker.com'

/** Addresses a call must never make Deckhand reach: this host, its networks, cloud metadata. */
const PRIVATE = new BlockList()
for (const [network, prefix] of [
  ['0.0.0.0', 8], // unspecified, "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv4')
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv6')
}

/** Why `address` is not public, or undefined when it is. IPv4-mapped IPv6 is judged as IPv4. */
export function privateAddressReason(address: string): string | undefined {
  const bare = address.replace(/^\[(.*)\]$/, '$1')
  const family = isIP(bare)
  if (family === 0) {
    return `${address} is not an IP address`
  }
  const mapped = family === 6 ? ipv4Mapped(bare) : undefined
  const blocked = mapped
    ? PRIVATE.check(mapped, 'ipv4')
    : PRIVATE.check(bare, family === 4 ? 'ipv4' : 'ipv6')
  return blocked
    ? `${address} is a loopback, link-local, private or unspecified address`
    : undefined
}

/** `::ffff:7f00:1` and `::ffff:127.0.0.1` as `127.0.0.1`; undefined for any other IPv6. */
function ipv4Mapped(address: string): string | undefined {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (dotted) {
    return dotted[1]
  }
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address)
  if (!hex) {
    return undefined
  }
  const high = Number.parseInt(hex[1]!, 16)
  const low = Number.parseInt(hex[2]!, 16)
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`
}

/**
 * DECKHAND_CALLBACK_HOSTS, parsed: `host`, `host:port` or `*.domain` (any name under domain).
 * An entry that names an IP address is the operator's explicit choice of that address, so it
 * is reached even when private or loopback; every host name must resolve to public addresses.
 */
export interface CallbackHosts {
  /** Lower-case host names and addresses, with `:port` when the entry had one. */
  exact: ReadonlySet<string>
  /** Suffixes from `*.domain` entries, each starting with a dot. */
  suffixes: readonly string[]
}

export function readCallbackHosts(value: string | undefined): CallbackHosts {
  const entries = (value === undefined || value.trim() === '' ? DEFAULT_CALLBACK_HOSTS : value)
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean)
  return {
    exact: new Set(entries.filter((entry) => !entry.startsWith('*.'))),
    suffixes: entries.filter((entry) => entry.startsWith('*.')).map((entry) => entry.slice(1)),
  }
}

export type Destination =
  { ok: true; url: URL; lookup: LookupFunction | undefined } | { ok: false; reason: string }

/**
 * Checks a call-driven URL before anything is sent. The answer's `lookup` resolves the host once
 * and hands the connection only checked addresses, so a second DNS answer cannot point elsewhere.
 */
export function checkDestination(raw: string, hosts: CallbackHosts): Destination {
  if (!URL.canParse(raw)) {
    return { ok: false, reason: 'the URL does not parse' }
  }
  const url = new URL(raw)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: `only http and https URLs are called back, not ${url.protocol}` }
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, reason: 'a callback URL carrying credentials (userinfo) is refused' }
  }
  // URL has already turned 0x7f.1 and 2130706433 into 127.0.0.1, and [::ffff:127.0.0.1] into [::ffff:7f00:1].
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  const port = url.port || (url.protocol === 'https:' ? '443' : '80')
  const listedWithPort = hosts.exact.has(`${isIP(host) === 6 ? `[${host}]` : host}:${port}`)
  const listed = listedWithPort || hosts.exact.has(host) || hosts.exact.has(url.hostname)
  if (!listed && !hosts.suffixes.some((suffix) => host.endsWith(suffix))) {
    return { ok: false, reason: `${url.host} is not in DECKHAND_CALLBACK_HOSTS` }
  }
  if (isIP(host) !== 0) {
    const reason = listed ? undefined : privateAddressReason(host)
    return reason ? { ok: false, reason } : { ok: true, url, lookup: undefined }
  }
  return { ok: true, url, lookup: publicOnlyLookup }
}

/** The error code of a lookup that found only refused addresses: not worth a retry. */
export const REFUSED_ADDRESS = 'DH_REFUSED_ADDRESS'

/** A net lookup that answers only when every address the name has is public. */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { all: true, family: options.family ?? 0 })
    .then((addresses) => {
      const refused = addresses.map(({ address }) => privateAddressReason(address)).find(Boolean)
      if (refused || addresses.length === 0) {
        const error = Object.assign(
          new Error(`${hostname} resolves to a refused address: ${refused ?? 'none'}`),
          {
            code: REFUSED_ADDRESS,
          },
        )
        callback(error, '', 4)
        return
      }
      if (options.all) {
        ;(callback as unknown as (e: null, a: typeof addresses) => void)(null, addresses)
      } else {
        callback(null, addresses[0]!.address, addresses[0]!.family)
      }
    })
    .catch((error: NodeJS.ErrnoException) => callback(error, '', 4))
}
