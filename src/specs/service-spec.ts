/**
 * A service as people write it (API bodies and deckhand.yaml): its JSON schema, the parse
 * into the stored shape with every problem named by field, and the view shown back.
 */
import { withoutCredentials } from '../http/redact-url.ts'
import { formatDuration, parseDuration } from '../model/duration.ts'
import {
  type ApprovalPolicy,
  type ChangeWindow,
  DEFAULT_SCALE,
  DEPLOY_ORDERS,
  type DeployHook,
  type DeployOrder,
  DRIVER_NAMES,
  type DriverName,
  type GitHubReporting,
  MAX_APPROVALS,
  MAX_WINDOWS,
  NOTIFY_FORMATS,
  type NotifyFormat,
  type NotifyTarget,
  PULL_POLICIES,
  type PullPolicy,
  type Service,
} from '../model/index.ts'
import { parseTagPolicy } from '../policy/tag-policy.ts'
import { isFrozen } from '../release/freeze.ts'
import { parseWindow } from '../release/windows.ts'
import type { ServiceInput } from '../store/store.ts'
import { isRecord, NAME_PATTERN, NAME_RULE, type Parsed, ProblemList } from './problems.ts'
import { parseStatusReporting, statusReportingSchemas } from './status-reporting-spec.ts'
import { parseWatch, watchSchema, watchView } from './watch-spec.ts'

const DEFAULT_APPROVAL_DEADLINE_MS = 24 * 3_600_000
const MAX_APPROVAL_DEADLINE_MS = 30 * 24 * 3_600_000

const durationSchema = { anyOf: [{ type: 'number', minimum: 0 }, { type: 'string' }] }

function deployHookSchema(description: string) {
  return {
    description: `${description}; a shell command, or {"run": "<shell>", "timeout": "60s"}`,
    anyOf: [
      { type: 'string' },
      {
        type: 'object',
        additionalProperties: false,
        required: ['run'],
        properties: { run: { type: 'string' }, timeout: durationSchema },
      },
    ],
  } as const
}

export const serviceSpecSchema = {
  $id: 'Service',
  type: 'object',
  required: ['name', 'driver'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', description: NAME_RULE },
    driver: { type: 'string', enum: [...DRIVER_NAMES] },
    target: { type: 'object', description: 'driver options; see PRODUCT.md section 5a' },
    image: { type: ['string', 'null'] },
    tag: { type: ['string', 'null'] },
    git: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['repo'],
      properties: {
        repo: {
          type: 'string',
          description: 'the repository pushes name, e.g. acme/web (or its URL)',
        },
        url: {
          type: 'string',
          description: 'where git.build clones from; defaults to repo when repo is a URL or a path',
        },
        hasCredentials: {
          type: 'boolean',
          description: 'shown in views when url carries credentials; ignored on input',
        },
        branch: { type: 'string' },
        paths: { type: 'array', items: { type: 'string' } },
        build: {
          type: 'object',
          additionalProperties: false,
          properties: { context: { type: 'string' }, dockerfile: { type: 'string' } },
        },
      },
    },
    scale: {
      type: 'object',
      additionalProperties: false,
      properties: { min: { type: 'integer', minimum: 0 }, max: { type: 'integer', minimum: 0 } },
    },
    replicas: { type: ['integer', 'null'], minimum: 0 },
    tagPolicy: { type: 'string' },
    deploy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        order: { type: 'string', enum: [...DEPLOY_ORDERS] },
        healthTimeout: durationSchema,
        pull: { type: 'string', enum: [...PULL_POLICIES] },
        rollback: { type: 'boolean' },
        skipUnchanged: { type: 'boolean' },
        retries: { type: 'integer', minimum: 0 },
        retryBackoff: durationSchema,
        before: deployHookSchema(
          "runs on Deckhand's host before the runtime is touched; " +
            'when it fails, the deployment does',
        ),
        after: deployHookSchema(
          "runs on Deckhand's host once the outcome is known (DECKHAND_DEPLOYMENT_STATE); " +
            'never changes it',
        ),
        approvals: {
          type: ['object', 'null'],
          description:
            'a deployment waits in awaiting-approval for this many admin approvals; one ' +
            'rejection or the deadline (default 24h) cancels it',
          additionalProperties: false,
          required: ['required'],
          properties: {
            required: { type: 'integer', minimum: 1, maximum: MAX_APPROVALS },
            deadline: durationSchema,
          },
        },
        windows: {
          type: 'array',
          maxItems: MAX_WINDOWS,
          description:
            'when deployments may start; outside every window they wait held until the next opens',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['days', 'hours', 'timezone'],
            properties: {
              days: { type: 'string', description: 'e.g. mon-fri, sat,sun or mon-wed,fri' },
              hours: { type: 'string', description: 'e.g. 09:00-17:00, or 22:00-02:00' },
              timezone: { type: 'string', description: 'an IANA zone, e.g. Europe/Berlin' },
            },
          },
        },
        freezeOnRollback: {
          type: 'boolean',
          description: 'an automatic rollback freezes the service with its reason',
        },
        settle: {
          ...durationSchema,
          description:
            'docker: how long a container without a HEALTHCHECK must keep running to count' +
            ' as healthy; default 2s',
        },
      },
    },
    github: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: {
        token: { type: 'string', description: 'a secret: views show hasToken instead' },
        apiUrl: { type: 'string' },
        hasToken: { type: 'boolean', description: 'shown in views; ignored on input' },
      },
    },
    ...statusReportingSchemas,
    watch: watchSchema,
    freeze: {
      type: ['object', 'null'],
      description:
        'shown in views while the service is frozen ({until, message, by, at}); ignored on ' +
        'input: POST /api/v1/services/{name}/freeze',
    },
    notify: {
      type: ['array', 'null'],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['url'],
        properties: {
          url: { type: 'string' },
          format: { type: 'string', enum: [...NOTIFY_FORMATS] },
          secret: { type: 'string', description: 'a secret: views show hasSecret instead' },
          hasSecret: { type: 'boolean', description: 'shown in views; ignored on input' },
          hasCredentials: {
            type: 'boolean',
            description: 'shown in views when url carries credentials; ignored on input',
          },
        },
      },
    },
  },
} as const

const nullableString = { type: ['string', 'null'] } as const

/**
 * A service as the API answers it (serviceView), for the OpenAPI document: the fields people
 * write, as the spec above describes them, plus the state Deckhand keeps.
 */
export const serviceViewSchema = {
  $id: 'ServiceView',
  description: 'a service: its spec, with secrets shown as has* flags, and what Deckhand keeps',
  type: 'object',
  required: [
    ...['name', 'driver', 'target', 'image', 'tag', 'git', 'scale', 'tagPolicy', 'deploy'],
    ...['replicas', 'createdAt', 'updatedAt'],
  ],
  properties: {
    ...serviceSpecSchema.properties,
    tag: { ...nullableString, description: 'the image tag it runs now, as far as Deckhand knows' },
    replicas: {
      type: ['integer', 'null'],
      description: 'the replica count Deckhand last set; null when the runtime decides',
    },
    freeze: {
      type: 'object',
      description: 'while frozen: every new deployment is held; absent otherwise',
      required: ['until', 'message', 'by', 'at'],
      properties: {
        until: { ...nullableString, description: 'when it ends by itself; null until DELETE' },
        message: { type: 'string' },
        by: { type: 'string', description: "the admin token's name, or deckhand after a rollback" },
        at: { type: 'string', description: 'when it was frozen' },
      },
    },
    deployed: {
      type: ['object', 'null'],
      description: 'the target and image the runtime runs, until a redeploy runs a PATCH',
      properties: { target: { type: 'object' }, image: nullableString },
    },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const

/** Checks a driver target; supplied by the server, which knows the drivers. */
export type TargetChecker = (driver: DriverName, target: Record<string, unknown>) => string[]

const DEFAULT_HEALTH_TIMEOUT_MS = 60_000

export function parseServiceSpec(input: unknown, checkTarget: TargetChecker): Parsed<ServiceInput> {
  const problems = new ProblemList()
  if (!isRecord(input)) {
    return { ok: false, problems: [{ path: [], message: 'a service must be an object' }] }
  }
  const name = input.name
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    problems.add(['name'], `must be ${NAME_RULE}`)
  }
  const driver = input.driver
  if (!DRIVER_NAMES.includes(driver as DriverName)) {
    problems.add(
      ['driver'],
      `must be one of ${DRIVER_NAMES.join(', ')}; got ${JSON.stringify(driver)}`,
    )
  }
  const target = input.target ?? {}
  if (!isRecord(target)) {
    problems.add(['target'], 'must be an object of driver options')
  } else if (DRIVER_NAMES.includes(driver as DriverName)) {
    for (const message of checkTarget(driver as DriverName, target)) {
      problems.add(['target'], message)
    }
  }
  const scaleInput = isRecord(input.scale) ? input.scale : {}
  const scale = {
    min: Number(scaleInput.min ?? DEFAULT_SCALE.min),
    max: Number(scaleInput.max ?? DEFAULT_SCALE.max),
  }
  if (!Number.isInteger(scale.min) || scale.min < 0) {
    problems.add(['scale', 'min'], 'must be a whole number ≥ 0')
  }
  if (!Number.isInteger(scale.max) || scale.max < scale.min) {
    problems.add(['scale', 'max'], `must be a whole number ≥ scale.min (${scale.min})`)
  }
  const tagPolicy = input.tagPolicy === undefined ? 'all' : String(input.tagPolicy)
  const policy = parseTagPolicy(tagPolicy)
  if (!policy.ok) {
    problems.add(['tagPolicy'], policy.error)
  }
  const deployInput = isRecord(input.deploy) ? input.deploy : {}
  const healthTimeoutMs =
    deployInput.healthTimeout === undefined
      ? DEFAULT_HEALTH_TIMEOUT_MS
      : parseDuration(deployInput.healthTimeout)
  if (healthTimeoutMs === undefined) {
    problems.add(
      ['deploy', 'healthTimeout'],
      'must be a duration such as 60s, 5m or a number of seconds',
    )
  }
  const retries = deployInput.retries === undefined ? undefined : Number(deployInput.retries)
  if (retries !== undefined && (!Number.isInteger(retries) || retries < 0)) {
    problems.add(['deploy', 'retries'], 'must be a whole number ≥ 0 (attempts after the first)')
  }
  const retryBackoffMs =
    deployInput.retryBackoff === undefined ? undefined : parseDuration(deployInput.retryBackoff)
  if (deployInput.retryBackoff !== undefined && retryBackoffMs === undefined) {
    problems.add(
      ['deploy', 'retryBackoff'],
      'must be a duration such as 5s, 1m or a number of seconds',
    )
  }
  const settleMs = deployInput.settle === undefined ? undefined : parseDuration(deployInput.settle)
  if (deployInput.settle !== undefined && settleMs === undefined) {
    problems.add(['deploy', 'settle'], 'must be a duration such as 2s, 0s or a number of seconds')
  } else if (
    settleMs !== undefined &&
    healthTimeoutMs !== undefined &&
    settleMs > healthTimeoutMs
  ) {
    // No container without a HEALTHCHECK could ever pass: every deployment would time out.
    problems.add(
      ['deploy', 'settle'],
      `must not be longer than deploy.healthTimeout (${formatDuration(healthTimeoutMs)})`,
    )
  }
  if (deployInput.order !== undefined && !DEPLOY_ORDERS.includes(deployInput.order as never)) {
    problems.add(
      ['deploy', 'order'],
      `must be one of ${DEPLOY_ORDERS.join(', ')}; got ${JSON.stringify(deployInput.order)}`,
    )
  }
  if (deployInput.pull !== undefined && !PULL_POLICIES.includes(deployInput.pull as never)) {
    problems.add(
      ['deploy', 'pull'],
      `must be one of ${PULL_POLICIES.join(', ')}; got ${JSON.stringify(deployInput.pull)}`,
    )
  }
  if (deployInput.rollback !== undefined && typeof deployInput.rollback !== 'boolean') {
    problems.add(['deploy', 'rollback'], 'must be true or false')
  }
  if (deployInput.skipUnchanged !== undefined && typeof deployInput.skipUnchanged !== 'boolean') {
    problems.add(['deploy', 'skipUnchanged'], 'must be true or false')
  }
  if (
    deployInput.freezeOnRollback !== undefined &&
    typeof deployInput.freezeOnRollback !== 'boolean'
  ) {
    problems.add(['deploy', 'freezeOnRollback'], 'must be true or false')
  }
  const windows = parseWindows(deployInput.windows, problems)
  const before = parseDeployHook(deployInput.before, 'before', problems)
  const after = parseDeployHook(deployInput.after, 'after', problems)
  const approvals = parseApprovals(deployInput.approvals, problems)
  const replicas =
    input.replicas === undefined || input.replicas === null ? undefined : Number(input.replicas)
  if (
    replicas !== undefined &&
    (!Number.isInteger(replicas) || replicas < scale.min || replicas > scale.max)
  ) {
    problems.add(
      ['replicas'],
      `must be a whole number within scale.min..scale.max (${scale.min}..${scale.max})`,
    )
  }
  const git = isRecord(input.git) ? input.git : null
  if (git && (typeof git.repo !== 'string' || git.repo.trim() === '')) {
    problems.add(['git', 'repo'], 'must name the repository, e.g. acme/web')
  }
  const github = parseGitHub(input.github, problems)
  const gitlab = parseStatusReporting('gitlab', input.gitlab, problems)
  const gitea = parseStatusReporting('gitea', input.gitea, problems)
  const bitbucket = parseStatusReporting('bitbucket', input.bitbucket, problems)
  const notify = parseNotify(input.notify, problems)
  const watch = parseWatch(input.watch, { driver, image: input.image }, problems)
  if (!problems.ok) {
    return { ok: false, problems: problems.problems }
  }
  return {
    ok: true,
    value: {
      name: name as string,
      driver: driver as DriverName,
      target: target as Record<string, unknown>,
      image: typeof input.image === 'string' && input.image !== '' ? input.image : null,
      ...(typeof input.tag === 'string' ? { tag: input.tag } : {}),
      git: git
        ? {
            // Kept as written: a path or URL may need its capitals; matching ignores case.
            repo: String(git.repo),
            ...(typeof git.url === 'string' && git.url !== '' ? { url: credentialedUrl(git) } : {}),
            ...(typeof git.branch === 'string' ? { branch: git.branch } : {}),
            ...(Array.isArray(git.paths) ? { paths: git.paths.map(String) } : {}),
            ...(isRecord(git.build)
              ? { build: git.build as { context?: string; dockerfile?: string } }
              : {}),
          }
        : null,
      scale,
      tagPolicy,
      deploy: {
        order: (deployInput.order as DeployOrder | undefined) ?? 'start-first',
        healthTimeoutMs: healthTimeoutMs!,
        pull: (deployInput.pull as PullPolicy | undefined) ?? 'missing',
        rollback: deployInput.rollback !== false,
        ...(deployInput.skipUnchanged === true ? { skipUnchanged: true } : {}),
        ...(retries !== undefined ? { retries } : {}),
        ...(retryBackoffMs !== undefined ? { retryBackoffMs } : {}),
        ...(before ? { before } : {}),
        ...(after ? { after } : {}),
        ...(approvals ? { approvals } : {}),
        ...(settleMs !== undefined ? { settleMs } : {}),
        ...(windows?.length ? { windows } : {}),
        ...(deployInput.freezeOnRollback === true ? { freezeOnRollback: true } : {}),
      },
      ...(replicas !== undefined ? { replicas } : {}),
      ...(github ? { github } : {}),
      ...(gitlab ? { gitlab } : {}),
      ...(gitea ? { gitea } : {}),
      ...(bitbucket ? { bitbucket } : {}),
      ...(notify?.length ? { notify } : {}),
      ...(watch ? { watch } : {}),
    },
  }
}

const DEFAULT_HOOK_TIMEOUT_MS = 60_000
const MAX_HOOK_TIMEOUT_MS = 3_600_000
const MAX_HOOK_COMMAND_CHARS = 16_384

/** `deploy.before` / `deploy.after`: a shell command, or `{run, timeout}`; null is none. */
function parseDeployHook(
  value: unknown,
  name: 'before' | 'after',
  problems: ProblemList,
): DeployHook | undefined {
  if (value === undefined || value === null) {
    return undefined
  }
  const block = isRecord(value) ? value : { run: value }
  const path = ['deploy', name]
  const unknown = Object.keys(block).find((key) => key !== 'run' && key !== 'timeout')
  if (unknown !== undefined) {
    problems.add([...path, unknown], 'is not a hook field (known: run, timeout)')
    return undefined
  }
  const run = block.run
  if (typeof run !== 'string' || run.trim() === '' || run.length > MAX_HOOK_COMMAND_CHARS) {
    const shape = `a shell command of 1 to ${MAX_HOOK_COMMAND_CHARS} characters`
    const at = isRecord(value) ? [...path, 'run'] : path
    problems.add(at, `must be ${shape}, or {"run": "<shell>", "timeout": "60s"}`)
    return undefined
  }
  const timeoutMs =
    block.timeout === undefined ? DEFAULT_HOOK_TIMEOUT_MS : parseDuration(block.timeout)
  if (timeoutMs === undefined || timeoutMs === 0 || timeoutMs > MAX_HOOK_TIMEOUT_MS) {
    const most = formatDuration(MAX_HOOK_TIMEOUT_MS)
    const message = `must be a duration above 0 and at most ${most}, such as 60s or 5m`
    problems.add([...path, 'timeout'], message)
    return undefined
  }
  return { run, timeoutMs }
}

/** `deploy.approvals`: `{required: 1..10, deadline}`; null is none. */
function parseApprovals(value: unknown, problems: ProblemList): ApprovalPolicy | undefined {
  if (value === undefined || value === null) {
    return undefined
  }
  const path = ['deploy', 'approvals']
  if (!isRecord(value)) {
    problems.add(path, 'must be an object: {"required": 2, "deadline": "24h"}')
    return undefined
  }
  const unknown = Object.keys(value).find((key) => key !== 'required' && key !== 'deadline')
  if (unknown !== undefined) {
    problems.add([...path, unknown], 'is not an approvals field (known: required, deadline)')
    return undefined
  }
  const required = value.required
  if (!Number.isInteger(required) || Number(required) < 1 || Number(required) > MAX_APPROVALS) {
    problems.add([...path, 'required'], `must be a whole number from 1 to ${MAX_APPROVALS}`)
    return undefined
  }
  const deadlineMs =
    value.deadline === undefined ? DEFAULT_APPROVAL_DEADLINE_MS : parseDuration(value.deadline)
  if (deadlineMs === undefined || deadlineMs === 0 || deadlineMs > MAX_APPROVAL_DEADLINE_MS) {
    const most = formatDuration(MAX_APPROVAL_DEADLINE_MS)
    problems.add(
      [...path, 'deadline'],
      `must be a duration above 0 and at most ${most}, such as 24h`,
    )
    return undefined
  }
  return { required: Number(required), deadlineMs }
}

/** `deploy.windows`: at most MAX_WINDOWS `{days, hours, timezone}`; null or [] is none. */
function parseWindows(value: unknown, problems: ProblemList): ChangeWindow[] | undefined {
  if (value === undefined || value === null) {
    return undefined
  }
  if (!Array.isArray(value) || value.length > MAX_WINDOWS) {
    const shape = '{"days": "mon-fri", "hours": "09:00-17:00", "timezone": "Europe/Berlin"}'
    problems.add(['deploy', 'windows'], `must be a list of at most ${MAX_WINDOWS} ${shape}`)
    return undefined
  }
  return value.flatMap((entry: unknown, index): ChangeWindow[] => {
    const path = ['deploy', 'windows', String(index)]
    if (!isRecord(entry)) {
      problems.add(path, 'must be an object with days, hours and timezone')
      return []
    }
    const unknown = Object.keys(entry).find((key) => !WINDOW_FIELDS.includes(key))
    if (unknown !== undefined) {
      problems.add([...path, unknown], `is not a window field (known: ${WINDOW_FIELDS.join(', ')})`)
      return []
    }
    const window = entry as unknown as ChangeWindow
    const parsed = parseWindow(window)
    if (!parsed.ok) {
      problems.add([...path, parsed.field], parsed.error)
      return []
    }
    return [{ days: window.days, hours: window.hours, timezone: window.timezone }]
  })
}

const WINDOW_FIELDS = ['days', 'hours', 'timezone']

function deployHookView(hook: DeployHook): { run: string; timeout: string } {
  return { run: hook.run, timeout: formatDuration(hook.timeoutMs) }
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string' || !URL.canParse(value)) {
    return false
  }
  const { protocol } = new URL(value)
  return protocol === 'http:' || protocol === 'https:'
}

/**
 * A view keeps the secret it hides as a non-enumerable property: JSON never shows it, but a
 * PATCH merged over the view (admin.updateService) leaves an untouched block as the same
 * object, so the secret survives. A block the patch changes must carry its secret again.
 */
function hideSecret<T extends object>(view: T, key: string, secret: string): T {
  Object.defineProperty(view, key, { value: secret, enumerable: false })
  return view
}

/** A view of a block whose `url` carries credentials shows it without them, and hides the real one. */
function hideUrlCredentials<T extends { url: string }>(
  block: T,
): T | (T & { hasCredentials: true }) {
  const shown = withoutCredentials(block.url)
  return shown === undefined
    ? block
    : hideSecret({ ...block, url: shown, hasCredentials: true }, 'credentialedUrl', block.url)
}

/** The real URL when a view's untouched `url` comes back; what was written otherwise. */
function credentialedUrl(block: Record<string, unknown>): string {
  const hidden = block.credentialedUrl
  return block.hasCredentials === true &&
    typeof hidden === 'string' &&
    withoutCredentials(hidden) === block.url
    ? hidden
    : String(block.url)
}

function parseGitHub(value: unknown, problems: ProblemList): GitHubReporting | undefined {
  if (value === undefined || value === null) {
    return undefined
  }
  if (!isRecord(value)) {
    problems.add(['github'], 'must be an object: {"token": "…", "apiUrl": "https://…"}')
    return undefined
  }
  if (typeof value.token !== 'string' || value.token.trim() === '') {
    const again =
      value.hasToken === true ? '; a changed github block must carry its token again' : ''
    problems.add(['github', 'token'], `must be a GitHub token allowed to write deployments${again}`)
  }
  if (value.apiUrl !== undefined && !isHttpUrl(value.apiUrl)) {
    problems.add(
      ['github', 'apiUrl'],
      'must be an http(s) URL, e.g. https://github.acme.example/api/v3',
    )
  }
  return {
    token: String(value.token),
    ...(typeof value.apiUrl === 'string' ? { apiUrl: value.apiUrl.replace(/\/+$/, '') } : {}),
  }
}

function parseNotify(value: unknown, problems: ProblemList): NotifyTarget[] | undefined {
  if (value === undefined || value === null) {
    return undefined
  }
  if (!Array.isArray(value)) {
    problems.add(['notify'], 'must be a list of {"url", "format": "json" | "slack", "secret"}')
    return undefined
  }
  return value.flatMap((entry: unknown, index): NotifyTarget[] => {
    if (!isRecord(entry)) {
      problems.add(['notify', String(index)], 'must be an object with a url')
      return []
    }
    if (!isHttpUrl(entry.url)) {
      problems.add(['notify', String(index), 'url'], 'must be an http(s) URL')
    }
    const format = entry.format ?? 'json'
    if (!NOTIFY_FORMATS.includes(format as NotifyFormat)) {
      problems.add(
        ['notify', String(index), 'format'],
        `must be one of ${NOTIFY_FORMATS.join(', ')}`,
      )
    }
    if (entry.secret !== undefined && (typeof entry.secret !== 'string' || entry.secret === '')) {
      problems.add(['notify', String(index), 'secret'], 'must be a non-empty string')
    }
    return [
      {
        url: credentialedUrl(entry),
        format: format as NotifyFormat,
        ...(typeof entry.secret === 'string' ? { secret: entry.secret } : {}),
      },
    ]
  })
}

/** The service as the API and the CLI show it: the shape people write, plus observed state. */
/** A service as the API answers it; the web UI reads this type (web/src/types.ts). */
export type ServiceView = ReturnType<typeof serviceView>

export function serviceView(service: Service) {
  const { deploy, github, notify, git, watch, freeze, ...rest } = service
  return {
    ...rest,
    ...(watch ? { watch: watchView(watch) } : {}),
    // A freeze past its end no longer holds anything: shown only while it does.
    ...(freeze && isFrozen(freeze, Date.now()) ? { freeze } : {}),
    git: git?.url === undefined ? git : hideUrlCredentials({ ...git, url: git.url }),
    ...(github
      ? {
          github: hideSecret(
            { ...(github.apiUrl ? { apiUrl: github.apiUrl } : {}), hasToken: true },
            'token',
            github.token,
          ),
        }
      : {}),
    ...(notify?.length
      ? {
          notify: notify.map(({ secret, ...target }) => {
            const view = hideUrlCredentials(
              secret === undefined ? target : { ...target, hasSecret: true },
            )
            return secret === undefined ? view : hideSecret(view, 'secret', secret)
          }),
        }
      : {}),
    deploy: {
      order: deploy.order,
      healthTimeout: formatDuration(deploy.healthTimeoutMs),
      pull: deploy.pull,
      rollback: deploy.rollback,
      ...(deploy.skipUnchanged ? { skipUnchanged: true } : {}),
      ...(deploy.retries !== undefined ? { retries: deploy.retries } : {}),
      ...(deploy.retryBackoffMs !== undefined
        ? { retryBackoff: formatDuration(deploy.retryBackoffMs) }
        : {}),
      ...(deploy.before ? { before: deployHookView(deploy.before) } : {}),
      ...(deploy.after ? { after: deployHookView(deploy.after) } : {}),
      ...(deploy.approvals
        ? {
            approvals: {
              required: deploy.approvals.required,
              deadline: formatDuration(deploy.approvals.deadlineMs),
            },
          }
        : {}),
      ...(deploy.settleMs !== undefined ? { settle: formatDuration(deploy.settleMs) } : {}),
      ...(deploy.windows?.length ? { windows: deploy.windows } : {}),
      ...(deploy.freezeOnRollback ? { freezeOnRollback: true } : {}),
    },
  }
}
