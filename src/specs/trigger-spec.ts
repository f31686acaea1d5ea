/**
 * A trigger's options as people write them: schema, parse with defaults, and the view that
 * never shows the secret or the URL.
 */
import { BlockList, isIP } from 'node:net'

import { formatDuration, formatRate, parseDuration, parseRate } from '../model/duration.ts'
import {
  type Action,
  ACTIONS,
  SENDER_IDS,
  type SenderId,
  type Trigger,
  TRIGGER_DEFAULTS,
  type TriggerOptions,
} from '../model/index.ts'
import { parseCallMatch } from './call-match-spec.ts'
import { isRecord, NAME_PATTERN, NAME_RULE, type Parsed, ProblemList } from './problems.ts'

export const triggerSpecSchema = {
  $id: 'Trigger',
  type: 'object',
  required: ['action'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    action: { type: 'string', enum: [...ACTIONS] },
    by: { type: 'integer', minimum: 1 },
    sender: { type: 'string', enum: [...SENDER_IDS] },
    secret: { type: ['string', 'null'] },
    allowIps: { type: 'array', items: { type: 'string' } },
    passBody: { type: 'boolean' },
    envFromQuery: { type: 'array', items: { type: 'string' } },
    secretEnvFromQuery: { type: 'array', items: { type: 'string' } },
    allowTag: { type: 'boolean' },
    reverseOnResolve: { type: 'boolean' },
    cooldown: { anyOf: [{ type: 'number', minimum: 0 }, { type: 'string' }] },
    rateLimit: { type: 'string' },
    match: {
      type: ['object', 'null'],
      description:
        'conditions a call must meet, else it is answered 200 ignored: ' +
        '{"all"|"any": [...], "not": {...}} of {"header"|"query"|"body": "<name or path>", ' +
        '"equals"|"in"|"regex"|"exists": ...}; docs/release-control.md',
    },
  },
} as const

/**
 * A trigger as the API answers it (triggerView), for the OpenAPI document: the options as the
 * spec above describes them, with `hasSecret` for the secret and the durations written out.
 */
export const triggerViewSchema = {
  $id: 'TriggerView',
  description: 'a trigger: never its secret, never its URL',
  type: 'object',
  required: [
    ...['id', 'name', 'action', 'by', 'sender', 'hasSecret', 'allowIps', 'passBody'],
    ...['envFromQuery', 'secretEnvFromQuery', 'allowTag', 'reverseOnResolve', 'cooldown'],
    ...['rateLimit', 'match', 'service', 'stack', 'createdAt', 'revokedAt'],
  ],
  properties: {
    id: { type: 'string' },
    ...Object.fromEntries(
      Object.entries(triggerSpecSchema.properties).filter(([name]) => name !== 'secret'),
    ),
    hasSecret: { type: 'boolean', description: 'calls must be signed or carry the secret' },
    cooldown: { type: 'string', description: 'e.g. 30s; 0s for none' },
    rateLimit: {
      type: 'string',
      description: 'calls allowed per second, minute or hour, e.g. 60/min',
    },
    service: { type: ['string', 'null'], description: 'the owner, or null when a stack owns it' },
    stack: { type: ['string', 'null'] },
    createdAt: { type: 'string' },
    revokedAt: { type: ['string', 'null'], description: 'set once revoked: its URL is refused' },
  },
} as const

// Upper case only: no `toString` or `__proto__`, and one spelling per variable.
const ENV_NAME = /^[A-Z][A-Z0-9_]{0,63}$/
/**
 * Variables that change how a loader, an interpreter, git, docker or kubectl behaves, or where it
 * connects: a caller who knows the URL must never set them. (`*_proxy` is lower case and so
 * already fails ENV_NAME; the upper-case spelling is refused here.)
 */
const FORBIDDEN_ENV =
  /^(?:DECKHAND_|LD_|DYLD_|PYTHON|GIT_|DOCKER_|NODE_OPTIONS$|PERL5OPT$|PERL5LIB$|RUBYOPT$|JAVA_TOOL_OPTIONS$|BASH_ENV$|ENV$|IFS$|HOME$|SHELL$|PATH$|KUBECONFIG$)|_PROXY$/

/** Parses the options; `name` defaults to the action, like a person would label it. */
export function parseTriggerSpec(input: unknown): Parsed<TriggerOptions> {
  const problems = new ProblemList()
  if (!isRecord(input)) {
    return { ok: false, problems: [{ path: [], message: 'a trigger must be an object' }] }
  }
  const action = input.action as Action
  if (!ACTIONS.includes(action)) {
    problems.add(
      ['action'],
      `must be one of ${ACTIONS.join(', ')}; got ${JSON.stringify(input.action)}`,
    )
  }
  const name = input.name === undefined ? String(input.action ?? 'trigger') : input.name
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    problems.add(['name'], `must be ${NAME_RULE}`)
  }
  const by = input.by === undefined ? TRIGGER_DEFAULTS.by : Number(input.by)
  if (!Number.isInteger(by) || by < 1 || by > 1000) {
    problems.add(['by'], 'must be a whole number from 1 to 1000')
  }
  const sender = (input.sender ?? TRIGGER_DEFAULTS.sender) as SenderId
  if (!SENDER_IDS.includes(sender)) {
    problems.add(['sender'], `must be one of ${SENDER_IDS.join(', ')}`)
  }
  const secret =
    input.secret === undefined || input.secret === null || input.secret === '' ? null : input.secret
  if (secret !== null && (typeof secret !== 'string' || secret.length > 512)) {
    problems.add(['secret'], 'must be a string of at most 512 characters')
  }
  const allowIps = Array.isArray(input.allowIps) ? input.allowIps : []
  allowIps.forEach((entry, index) => {
    if (typeof entry !== 'string' || !parseCidr(entry)) {
      problems.add(
        ['allowIps', index],
        `${JSON.stringify(entry)} is not an IP address or CIDR range (203.0.113.0/24, 2001:db8::/32)`,
      )
    }
  })
  const envFromQuery = Array.isArray(input.envFromQuery) ? input.envFromQuery : []
  envFromQuery.forEach((entry, index) => {
    if (typeof entry !== 'string' || !ENV_NAME.test(entry) || FORBIDDEN_ENV.test(entry)) {
      problems.add(
        ['envFromQuery', index],
        `${JSON.stringify(entry)} is not an environment variable name a caller may set: names match ^[A-Z][A-Z0-9_]{0,63}$ and are not loader, interpreter, proxy, git, docker or kubernetes variables (LD_*, DYLD_*, NODE_OPTIONS, PERL5OPT, PYTHON*, JAVA_TOOL_OPTIONS, GIT_*, *_PROXY, DOCKER_*, KUBECONFIG, PATH, HOME, SHELL, IFS, DECKHAND_*)`,
      )
    }
  })
  const secretEnvFromQuery = Array.isArray(input.secretEnvFromQuery) ? input.secretEnvFromQuery : []
  secretEnvFromQuery.forEach((entry, index) => {
    if (typeof entry !== 'string' || !envFromQuery.includes(entry)) {
      problems.add(
        ['secretEnvFromQuery', index],
        `${JSON.stringify(entry)} is not one of envFromQuery; list there the variables whose values are secret`,
      )
    }
  })
  const cooldownMs = input.cooldown === undefined ? 60_000 : parseDuration(input.cooldown)
  if (cooldownMs === undefined) {
    problems.add(['cooldown'], 'must be a duration such as 60s or 5m')
  }
  const rateLimit =
    input.rateLimit === undefined ? { count: 600, perMs: 60_000 } : parseRate(input.rateLimit)
  if (rateLimit === undefined) {
    problems.add(['rateLimit'], 'must be a rate such as 600/min, 10/s or 1000/h')
  }
  const match = parseCallMatch(input.match, problems)
  if (!problems.ok) {
    return { ok: false, problems: problems.problems }
  }
  return {
    ok: true,
    value: {
      name: name as string,
      action,
      by,
      sender,
      secret: secret as string | null,
      allowIps: allowIps as string[],
      passBody: typeof input.passBody === 'boolean' ? input.passBody : action === 'redeploy',
      envFromQuery: envFromQuery as string[],
      secretEnvFromQuery: secretEnvFromQuery as string[],
      allowTag: input.allowTag !== false,
      reverseOnResolve: input.reverseOnResolve === true,
      cooldownMs: cooldownMs!,
      rateLimit: rateLimit!,
      match,
    },
  }
}

/** `203.0.113.7`, `203.0.113.0/24`, `::1`, `2001:db8::/32` → address, prefix and family. */
export function parseCidr(
  text: string,
): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText] = text.trim().split('/')
  const version = isIP(address)
  if (version === 0) {
    return undefined
  }
  const max = version === 4 ? 32 : 128
  const prefix = prefixText === undefined ? max : Number(prefixText)
  if (
    !Number.isInteger(prefix) ||
    prefix < 0 ||
    prefix > max ||
    (prefixText !== undefined && !/^\d+$/.test(prefixText))
  ) {
    return undefined
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' }
}

/** A matcher for a trigger's allowIps; IPv4-mapped IPv6 peers match IPv4 ranges. */
export function makeIpAllowList(entries: string[]): (address: string) => boolean {
  const list = new BlockList()
  for (const entry of entries) {
    const cidr = parseCidr(entry)
    if (cidr) {
      list.addSubnet(cidr.address, cidr.prefix, cidr.family)
    }
  }
  return (address) => {
    const plain =
      address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address
    const version = isIP(plain)
    return version !== 0 && list.check(plain, version === 4 ? 'ipv4' : 'ipv6')
  }
}

/** A trigger as the API answers it; the web UI reads this type (web/src/types.ts). */
export type TriggerView = ReturnType<typeof triggerView>

/** The trigger as listings show it: never its secret, never its URL. */
export function triggerView(trigger: Trigger) {
  const { secret, cooldownMs, rateLimit, ...rest } = trigger
  return {
    ...rest,
    hasSecret: secret !== null,
    cooldown: formatDuration(cooldownMs),
    rateLimit: formatRate(rateLimit),
    match: trigger.match ?? null,
  }
}
