/** A stand-in Kubernetes API server on 127.0.0.1: apps/v1 workloads, scale, pods, and tiny controllers. */
import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

// Not a Kubernetes: it serves only the endpoints the kubernetes driver calls, answers them in the
// shapes of the API reference (objects, lists, Status errors), applies the three PATCH content
// types as the API server does, and runs Deployment/StatefulSet controllers one `step()` at a
// time (or on a timer), with surge 1 / unavailable 0 and pods that become ready in one step.
type Json = any
type Kind = 'Deployment' | 'StatefulSet'
const RESOURCES: Record<string, Kind> = { deployments: 'Deployment', statefulsets: 'StatefulSet' }

/** A failure pods of matching images show, as the kubelet would report it. */
export interface PodFailure {
  image: string | RegExp
  reason: 'ImagePullBackOff' | 'CrashLoopBackOff' | 'ContainerCreating'
  message?: string
}

export interface WorkloadSeed {
  kind?: Kind
  namespace?: string
  name: string
  labels?: Record<string, string>
  replicas?: number
  containers: Array<{
    name: string
    image: string
    env?: Array<{ name: string; value?: string; valueFrom?: Json }>
    ports?: Array<{ containerPort: number; protocol?: string }>
  }>
  progressDeadlineSeconds?: number
  podManagementPolicy?: 'OrderedReady' | 'Parallel'
}

interface StandInPod {
  name: string
  json: Json
  revision: string
  ordinal: number
  readyAt: number | null
  failure: PodFailure | null
}
interface Stored {
  object: Json
  pods: StandInPod[]
  templates: Map<string, Json>
  progressKey: string
  progressAt: number
}

export class KubeApiStandIn {
  /** Every request served, for tests that check what the driver sent (a spy, not a mock). */
  readonly requests: Array<{
    method: string
    path: string
    query: string
    contentType: string | undefined
  }> = []
  #server = createServer((req, res) => void this.#serve(req, res))
  #store = new Map<string, Stored>()
  #failures: PodFailure[] = []
  #resourceVersion = 1
  #clockOffsetMs = 0
  #serial = 0
  #timer: NodeJS.Timeout | undefined

  /** Starts a stand-in on an ephemeral port of 127.0.0.1. */
  static async start(): Promise<KubeApiStandIn> {
    const standIn = new KubeApiStandIn()
    await new Promise<void>((resolve) => standIn.#server.listen(0, '127.0.0.1', resolve))
    return standIn
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  /**
   * A kubeconfig whose current context `stand-in` points here, plus a context per entry of
   * `others` (name → server URL). TLS verification is off because the client refuses plain http
   * otherwise, and the stand-in speaks only http on 127.0.0.1.
   */
  kubeconfig(others: Record<string, string> = {}): string {
    const servers = { 'stand-in': this.url, ...others }
    const entries = Object.entries(servers)
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      ...entries.map(
        ([name, server]) =>
          `- name: ${name}\n  cluster: { server: "${server}", insecure-skip-tls-verify: true }`,
      ),
      'users:',
      '- name: deckhand\n  user: { token: stand-in-token }',
      'contexts:',
      ...entries.map(
        ([name]) => `- name: ${name}\n  context: { cluster: ${name}, user: deckhand }`,
      ),
      'current-context: stand-in',
      '',
    ].join('\n')
  }

  /** Creates a workload as `kubectl apply` would, fully rolled out (its pods already ready). */
  add(seed: WorkloadSeed): Json {
    const kind = seed.kind ?? 'Deployment'
    const namespace = seed.namespace ?? 'default'
    const labels = seed.labels ?? { app: seed.name }
    const spec: Json = {
      replicas: seed.replicas ?? 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: structuredClone(seed.containers) } },
    }
    if (kind === 'Deployment') {
      spec.progressDeadlineSeconds = seed.progressDeadlineSeconds ?? 600
      spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }
    } else {
      spec.podManagementPolicy = seed.podManagementPolicy ?? 'OrderedReady'
      spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }
    }
    const object = {
      apiVersion: 'apps/v1',
      kind,
      metadata: { name: seed.name, namespace, labels, generation: 1, resourceVersion: '' },
      spec,
      status: {},
    }
    const stored: Stored = {
      object,
      pods: [],
      templates: new Map(),
      progressKey: '',
      progressAt: this.#now(),
    }
    this.#store.set(key(kind, namespace, seed.name), stored)
    for (let i = 0; i < 40 && !isSettled(stored.object); i++) {
      this.#reconcile(stored, true)
    }
    return structuredClone(stored.object)
  }

  /** Pods whose container image matches `failure.image` show its reason instead of starting. */
  failImages(failure: PodFailure): void {
    this.#failures.push(failure)
  }

  /** The stored workload, as a GET would answer it. */
  get(kind: Kind, namespace: string, name: string): Json {
    return structuredClone(this.#stored(kind, namespace, name)?.object)
  }

  /** The workload's pods, as a pod list would answer them. */
  pods(kind: Kind, namespace: string, name: string): Json[] {
    return (this.#stored(kind, namespace, name)?.pods ?? []).map((pod) => structuredClone(pod.json))
  }

  /** Changes a workload as `kubectl patch --type merge` would, for a test's own setup. */
  edit(kind: Kind, namespace: string, name: string, mergePatchBody: Json): void {
    this.#route(
      'PATCH',
      new URL(
        `/apis/apps/v1/namespaces/${namespace}/${kind.toLowerCase()}s/${name}`,
        'http://stand-in',
      ),
      'application/merge-patch+json',
      JSON.stringify(mergePatchBody),
    )
  }

  /** Moves the controllers' clock forward, so a progress deadline passes without waiting. */
  advanceClock(ms: number): void {
    this.#clockOffsetMs += ms
  }

  /** One pass of every controller: what a real cluster does over a few seconds. */
  step(): void {
    for (const stored of this.#store.values()) {
      this.#reconcile(stored, false)
    }
  }

  /** Runs `step()` every `intervalMs` until close. */
  startControllers(intervalMs = 10): void {
    this.#timer ??= setInterval(() => this.step(), intervalMs)
  }

  async close(): Promise<void> {
    clearInterval(this.#timer)
    this.#server.closeAllConnections()
    await new Promise((resolve) => this.#server.close(resolve))
  }

  #now(): number {
    return Date.now() + this.#clockOffsetMs
  }

  #stored(kind: Kind, namespace: string, name: string): Stored | undefined {
    return this.#store.get(key(kind, namespace, name))
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in')
    this.requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: url.search,
      contentType: req.headers['content-type'],
    })
    const chunks: Buffer[] = []
    for await (const chunk of req) {
      chunks.push(chunk as Buffer)
    }
    const send = (code: number, body: Json): void => {
      res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    }
    try {
      send(
        200,
        this.#route(
          req.method ?? 'GET',
          url,
          req.headers['content-type'],
          Buffer.concat(chunks).toString('utf8'),
        ),
      )
    } catch (error) {
      if (error instanceof ApiError) {
        send(error.code, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: error.message,
          reason: error.reason,
          code: error.code,
        })
      } else {
        send(500, {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message: String(error),
          reason: 'InternalError',
          code: 500,
        })
      }
    }
  }

  #route(method: string, url: URL, contentType: string | undefined, body: string): Json {
    if (url.pathname === '/version' && method === 'GET') {
      return {
        major: '1',
        minor: '31',
        gitVersion: 'v1.31.0-deckhand-stand-in',
        platform: 'linux/amd64',
      }
    }
    const selector = url.searchParams.get('labelSelector') ?? ''
    const pods = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(url.pathname)
    if (pods && method === 'GET') {
      const items = [...this.#store.values()]
        .filter((s) => s.object.metadata.namespace === pods[1])
        .flatMap((s) => s.pods.map((p) => p.json))
      return {
        apiVersion: 'v1',
        kind: 'PodList',
        metadata: { resourceVersion: String(this.#resourceVersion) },
        items: items.filter((p) => matches(selector, p.metadata.labels)),
      }
    }
    const match =
      /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/(deployments|statefulsets)(?:\/([^/]+))?(\/scale)?$/.exec(
        url.pathname,
      )
    if (!match) {
      throw new ApiError(
        404,
        'NotFound',
        `the server could not find the requested resource (${method} ${url.pathname}; not served by the stand-in)`,
      )
    }
    const [, namespace, resource, name, scale] = match as unknown as [
      string,
      string,
      string,
      string | undefined,
      string | undefined,
    ]
    const kind = RESOURCES[resource]!
    if (name === undefined) {
      if (method !== 'GET') {
        throw new ApiError(
          405,
          'MethodNotAllowed',
          `${method} is not served on a ${resource} collection by the stand-in`,
        )
      }
      const items = [...this.#store.values()]
        .map((s) => s.object)
        .filter(
          (o) =>
            o.kind === kind &&
            o.metadata.namespace === namespace &&
            matches(selector, o.metadata.labels),
        )
      return {
        apiVersion: 'apps/v1',
        kind: `${kind}List`,
        metadata: { resourceVersion: String(this.#resourceVersion) },
        items,
      }
    }
    const stored = this.#stored(kind, namespace, name)
    if (!stored) {
      throw new ApiError(404, 'NotFound', `${resource}.apps "${name}" not found`)
    }
    if (method === 'GET') {
      return scale ? scaleOf(stored.object) : stored.object
    }
    if (method !== 'PATCH') {
      throw new ApiError(405, 'MethodNotAllowed', `${method} is not served by the stand-in`)
    }
    const patch = parseJson(body)
    const before = stored.object
    let after: Json
    if (scale) {
      const patched = applyPatch(scaleOf(before), patch, contentType)
      after = {
        ...structuredClone(before),
        spec: { ...before.spec, replicas: patched.spec?.replicas },
      }
    } else {
      after = applyPatch(structuredClone(before), patch, contentType)
    }
    // The API server ignores status and system metadata on the main resource and bumps
    // metadata.generation only when the spec changed.
    after.status = before.status
    after.metadata = {
      ...after.metadata,
      name,
      namespace,
      generation: before.metadata.generation,
      resourceVersion: before.metadata.resourceVersion,
    }
    validate(kind, name, after)
    if (canonical(after.spec) !== canonical(before.spec)) {
      after.metadata.generation += 1
    }
    after.metadata.resourceVersion = String(++this.#resourceVersion)
    stored.object = after
    return scale ? scaleOf(after) : after
  }

  #reconcile(stored: Stored, isSeeding: boolean): void {
    const object = stored.object
    const { spec, metadata } = object
    const status = structuredClone(object.status)
    const revision = `${metadata.name}-${hashOf(spec.template)}`
    stored.templates.set(revision, spec.template)
    const now = this.#now()
    const observedNow = status.observedGeneration !== metadata.generation
    status.observedGeneration = metadata.generation
    for (const pod of stored.pods) {
      if (pod.failure === null && pod.readyAt === null) {
        pod.readyAt = now
      }
      pod.json = podJson(object, pod, stored.templates.get(pod.revision))
    }
    if (object.kind === 'Deployment') {
      this.#deploymentStep(stored, revision)
    } else {
      this.#statefulSetStep(stored, revision, status)
    }
    const ready = stored.pods.filter((p) => p.readyAt !== null).length
    const updated = stored.pods.filter((p) => p.revision === revision).length
    Object.assign(status, {
      replicas: stored.pods.length,
      readyReplicas: ready,
      availableReplicas: ready,
      updatedReplicas: updated,
    })
    if (object.kind === 'Deployment') {
      const rs = `ReplicaSet "${revision}"`
      const progressKey = `${revision}/${updated}/${ready}/${stored.pods.length}`
      const conditions = (status.conditions ?? []).filter((c: Json) => c.type !== 'Progressing')
      let progressing = (status.conditions ?? []).find((c: Json) => c.type === 'Progressing')
      if (progressKey !== stored.progressKey || observedNow) {
        stored.progressKey = progressKey
        stored.progressAt = now
        progressing = {
          type: 'Progressing',
          status: 'True',
          reason: 'ReplicaSetUpdated',
          message: `${rs} is progressing.`,
        }
      }
      if (
        updated === spec.replicas &&
        ready === spec.replicas &&
        stored.pods.length === spec.replicas
      ) {
        progressing = {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetAvailable',
          message: `${rs} has successfully progressed.`,
        }
      } else if (!isSeeding && now - stored.progressAt > spec.progressDeadlineSeconds * 1000) {
        progressing = {
          type: 'Progressing',
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
          message: `${rs} has timed out progressing.`,
        }
      }
      status.conditions = [...conditions, progressing]
    }
    if (canonical(status) !== canonical(object.status)) {
      object.status = status
      metadata.resourceVersion = String(++this.#resourceVersion)
    }
  }

  #deploymentStep(stored: Stored, revision: string): void {
    const wanted = stored.object.spec.replicas
    const fresh = stored.pods.filter((p) => p.revision === revision)
    const old = stored.pods.filter((p) => p.revision !== revision)
    // maxSurge 1, maxUnavailable 0: at most one pod above `wanted`, and an old pod goes only
    // when a ready pod replaces it. The ReplicaSet controller creates and deletes in bursts.
    const toCreate = Math.min(wanted - fresh.length, wanted + 1 - stored.pods.length)
    for (let i = 0; i < toCreate; i++) {
      stored.pods.push(this.#newPod(stored, revision, 0))
    }
    const remove = (pod: StandInPod): void => void stored.pods.splice(stored.pods.indexOf(pod), 1)
    // Old pods that are not ready cost no availability: the controller removes them first.
    old.filter((p) => p.readyAt === null).forEach(remove)
    let surplus = stored.pods.filter((p) => p.readyAt !== null).length - wanted
    for (const pod of old.filter((p) => p.readyAt !== null)) {
      if (surplus-- > 0) {
        remove(pod)
      }
    }
    const extra = fresh.length - wanted
    if (old.length === 0 && extra > 0) {
      const byReadiness = [
        ...fresh.filter((p) => p.readyAt === null),
        ...fresh.filter((p) => p.readyAt !== null).reverse(),
      ]
      byReadiness.slice(0, extra).forEach(remove)
    }
  }

  #statefulSetStep(stored: Stored, revision: string, status: Json): void {
    const { spec } = stored.object
    status.updateRevision = revision
    status.currentRevision ??= revision
    const byOrdinal = (ordinal: number): StandInPod | undefined =>
      stored.pods.find((p) => p.ordinal === ordinal)
    for (let ordinal = 0; ordinal < spec.replicas; ordinal++) {
      if (!byOrdinal(ordinal)) {
        stored.pods.push(this.#newPod(stored, revision, ordinal))
        stored.pods.sort((a, b) => a.ordinal - b.ordinal)
        return
      }
      // OrderedReady stops at the first pod that is not ready, even one a rollback would replace
      // (kubernetes/kubernetes#67250); Parallel does not.
      if (spec.podManagementPolicy === 'OrderedReady' && byOrdinal(ordinal)!.readyAt === null) {
        return
      }
    }
    const surplus = stored.pods.filter((p) => p.ordinal >= spec.replicas).at(-1)
    // The rolling update of statefulset_control.go: from the highest ordinal down, delete the
    // first outdated pod, and go no lower than a pod that is not ready yet.
    const partition = spec.updateStrategy.rollingUpdate?.partition ?? 0
    let victim = surplus
    for (let ordinal = spec.replicas - 1; !victim && ordinal >= partition; ordinal--) {
      const pod = byOrdinal(ordinal)!
      if (pod.revision !== revision) {
        victim = pod
      } else if (pod.readyAt === null) {
        break
      }
    }
    if (victim) {
      stored.pods.splice(stored.pods.indexOf(victim), 1)
    }
    const isComplete =
      stored.pods.length === spec.replicas &&
      stored.pods.every((p) => p.revision === revision && p.readyAt !== null)
    if (isComplete) {
      status.currentRevision = revision
    }
    status.currentReplicas = stored.pods.filter((p) => p.revision === status.currentRevision).length
  }

  #newPod(stored: Stored, revision: string, ordinal: number): StandInPod {
    const template = stored.templates.get(revision)
    const images: string[] = template.spec.containers.map((c: Json) => c.image)
    const failure =
      this.#failures.find((f) =>
        images.some((image) =>
          typeof f.image === 'string' ? image === f.image : f.image.test(image),
        ),
      ) ?? null
    const name =
      stored.object.kind === 'StatefulSet'
        ? `${stored.object.metadata.name}-${ordinal}`
        : `${revision}-${(++this.#serial).toString(36).padStart(5, '0')}`
    const pod: StandInPod = { name, json: null, revision, ordinal, readyAt: null, failure }
    pod.json = podJson(stored.object, pod, template)
    return pod
  }
}

class ApiError extends Error {
  readonly code: number
  readonly reason: string
  constructor(code: number, reason: string, message: string) {
    super(message)
    this.code = code
    this.reason = reason
  }
}

function key(kind: Kind, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`
}

function isSettled(object: Json): boolean {
  const s = object.status
  return (
    s.readyReplicas === object.spec.replicas &&
    s.replicas === object.spec.replicas &&
    s.updatedReplicas === s.replicas &&
    s.currentRevision === s.updateRevision
  )
}

/** JSON with sorted keys and without nulls, so equal objects compare (and hash) equal. */
function canonical(value: Json): string {
  return (
    JSON.stringify(value, (_key, v) =>
      v === null
        ? undefined
        : v && typeof v === 'object' && !Array.isArray(v)
          ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
          : v,
    ) ?? ''
  )
}

function hashOf(template: Json): string {
  return createHash('sha256').update(canonical(template)).digest('hex').slice(0, 10)
}

function scaleOf(object: Json): Json {
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: {
      name: object.metadata.name,
      namespace: object.metadata.namespace,
      resourceVersion: object.metadata.resourceVersion,
    },
    spec: { replicas: object.spec.replicas },
    status: {
      replicas: object.status.replicas ?? 0,
      selector: Object.entries(object.spec.selector.matchLabels)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    },
  }
}

function podJson(workload: Json, pod: StandInPod, template: Json): Json {
  const name = pod.name
  const hashLabel =
    workload.kind === 'Deployment'
      ? { 'pod-template-hash': pod.revision.split('-').at(-1) }
      : { 'controller-revision-hash': pod.revision }
  const isReady = pod.readyAt !== null
  const reason = pod.failure?.reason ?? 'ContainerCreating'
  const message =
    pod.failure?.message ??
    (reason === 'ImagePullBackOff'
      ? `Back-off pulling image "${template.spec.containers[0].image}"`
      : undefined)
  return {
    metadata: {
      name,
      namespace: workload.metadata.namespace,
      labels: { ...template.metadata.labels, ...hashLabel },
    },
    spec: structuredClone(template.spec),
    status: {
      phase: isReady || reason === 'CrashLoopBackOff' ? 'Running' : 'Pending',
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Ready', status: isReady ? 'True' : 'False' },
      ],
      containerStatuses: template.spec.containers.map((c: Json) => ({
        name: c.name,
        image: c.image,
        ready: isReady,
        restartCount: reason === 'CrashLoopBackOff' && !isReady ? 3 : 0,
        state: isReady
          ? { running: { startedAt: new Date(pod.readyAt!).toISOString() } }
          : { waiting: { reason, message } },
      })),
    },
  }
}

/** The label selector syntax of list calls: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`. */
function matches(selector: string, labels: Record<string, string> = {}): boolean {
  const terms = selector
    .split(/,(?![^(]*\))/)
    .map((t) => t.trim())
    .filter(Boolean)
  return terms.every((term) => {
    let m: RegExpExecArray | null
    if ((m = /^(\S+?)\s*(==|=|!=)\s*(\S*)$/.exec(term))) {
      return m[2] === '!=' ? labels[m[1]!] !== m[3] : labels[m[1]!] === m[3]
    }
    if ((m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term))) {
      const isIn = m[3]!
        .split(',')
        .map((v) => v.trim())
        .includes(labels[m[1]!] ?? '\0')
      return m[2] === 'in' ? isIn : !isIn
    }
    return term.startsWith('!') ? !(term.slice(1) in labels) : term in labels
  })
}

function parseJson(body: string): Json {
  try {
    return JSON.parse(body)
  } catch {
    throw new ApiError(400, 'BadRequest', 'the body of the request was in an unknown format')
  }
}

function applyPatch(object: Json, patch: Json, contentType: string | undefined): Json {
  switch (contentType?.split(';')[0]) {
    case 'application/strategic-merge-patch+json':
      return strategicMerge(object, patch)
    case 'application/merge-patch+json':
      return mergePatch(object, patch)
    case 'application/json-patch+json':
      return jsonPatch(object, patch)
    default:
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got ${contentType})`,
      )
  }
}

const isObject = (v: Json): boolean => v !== null && typeof v === 'object' && !Array.isArray(v)

/** RFC 7386: objects merge, null deletes, anything else replaces. */
function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) {
    return structuredClone(patch)
  }
  const result = isObject(target) ? { ...target } : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete result[k]
    } else {
      result[k] = mergePatch(result[k], v)
    }
  }
  return result
}

// patchMergeKey of the lists in a pod template (k8s.io/api/core/v1 types.go); other lists replace.
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
}

/** Strategic merge: as JSON merge, but the lists above merge element by element on their key. */
function strategicMerge(target: Json, patch: Json): Json {
  if (!isObject(patch)) {
    return structuredClone(patch)
  }
  if (Object.keys(patch).some((k) => k.startsWith('$'))) {
    throw new ApiError(
      400,
      'BadRequest',
      'the stand-in does not implement strategic merge directives ($patch, $retainKeys, …)',
    )
  }
  const result = isObject(target) ? { ...target } : {}
  for (const [k, v] of Object.entries(patch)) {
    const mergeKey = MERGE_KEYS[k]
    if (v === null) {
      delete result[k]
    } else if (mergeKey && Array.isArray(v) && Array.isArray(result[k])) {
      const list = [...result[k]]
      for (const item of v) {
        const at = list.findIndex((e) => e[mergeKey] === item[mergeKey])
        if (at >= 0) {
          list[at] = strategicMerge(list[at], item)
        } else {
          list.push(strategicMerge({}, item))
        }
      }
      result[k] = list
    } else {
      result[k] = strategicMerge(result[k], v)
    }
  }
  return result
}

/** RFC 6902 add, remove, replace and test; a failed test or a missing path answers 422. */
function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) {
    throw new ApiError(400, 'BadRequest', 'a JSON patch must be an array of operations')
  }
  const root = { doc: target }
  for (const op of ops) {
    const parts = [
      'doc',
      ...String(op.path)
        .split('/')
        .slice(1)
        .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~')),
    ]
    const last = parts.pop()!
    let parent: Json = root
    for (const part of parts) {
      parent = parent?.[Array.isArray(parent) ? Number(part) : part]
    }
    const invalid = (why: string): ApiError =>
      new ApiError(
        422,
        'Invalid',
        `the server rejected our request due to an error in our request: ${op.op} ${op.path}: ${why}`,
      )
    if (parent === undefined || parent === null) {
      throw invalid('the path does not exist')
    }
    if (op.op === 'test') {
      if (canonical(parent[last]) !== canonical(op.value)) {
        throw invalid('test failed')
      }
    } else if (op.op === 'remove' || op.op === 'replace') {
      if (!(last in parent)) {
        throw invalid('the path does not exist')
      }
      if (op.op === 'remove') {
        delete parent[last]
      } else {
        parent[last] = structuredClone(op.value)
      }
    } else if (op.op === 'add') {
      if (Array.isArray(parent)) {
        parent.splice(last === '-' ? parent.length : Number(last), 0, structuredClone(op.value))
      } else {
        parent[last] = structuredClone(op.value)
      }
    } else {
      throw new ApiError(
        400,
        'BadRequest',
        `the stand-in does not implement JSON patch op ${op.op}`,
      )
    }
  }
  return root.doc
}

/** The validation of apps/v1 workloads the driver can trip: containers, env, selector. */
function validate(kind: Kind, name: string, object: Json): void {
  const causes: string[] = []
  const containers = object.spec?.template?.spec?.containers
  if (!Array.isArray(containers) || containers.length === 0) {
    causes.push('spec.template.spec.containers: Required value')
  }
  for (const [i, c] of (containers ?? []).entries()) {
    if (!c.name) {
      causes.push(`spec.template.spec.containers[${i}].name: Required value`)
    }
    if (!c.image) {
      causes.push(`spec.template.spec.containers[${i}].image: Required value`)
    }
    for (const [j, e] of (c.env ?? []).entries()) {
      if (e.value !== undefined && e.value !== '' && e.valueFrom !== undefined) {
        causes.push(
          `spec.template.spec.containers[${i}].env[${j}].valueFrom: Invalid value: "": may not be specified when \`value\` is not empty`,
        )
      }
    }
  }
  if (
    !matches(
      Object.entries(object.spec?.selector?.matchLabels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
      object.spec?.template?.metadata?.labels,
    )
  ) {
    causes.push(
      'spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`',
    )
  }
  if (!(object.spec?.replicas >= 0)) {
    causes.push('spec.replicas: Invalid value: must be greater than or equal to 0')
  }
  if (causes.length > 0) {
    throw new ApiError(422, 'Invalid', `${kind}.apps "${name}" is invalid: ${causes.join(', ')}`)
  }
}
