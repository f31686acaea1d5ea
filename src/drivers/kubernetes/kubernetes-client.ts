/** The subset of the Kubernetes API (through @kubernetes/client-node) the kubernetes driver calls. */
import { existsSync } from 'node:fs'

import * as k8s from '@kubernetes/client-node'

export { WORKLOAD_KINDS, type WorkloadKind } from './kubernetes-target.ts'
import type { WorkloadKind } from './kubernetes-target.ts'

/** The content types of PATCH the driver sends; the API server applies each its own way. */
export const PATCH_TYPES = {
  strategic: 'application/strategic-merge-patch+json',
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
} as const
export type PatchType = keyof typeof PATCH_TYPES

export interface EnvVar {
  name: string
  value?: string
  valueFrom?: unknown
}

export interface Container {
  name: string
  image?: string
  env?: EnvVar[]
  ports?: Array<{ containerPort: number; protocol?: string; name?: string }>
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }
  spec?: { containers: Container[] }
}

export interface LabelSelector {
  matchLabels?: Record<string, string>
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>
}

export interface WorkloadCondition {
  type: string
  status: string
  reason?: string
  message?: string
}

/**
 * A Deployment or a StatefulSet, with the fields the driver reads (apps/v1). Optional where the
 * API reference marks them optional: a status before the first controller sync is empty.
 */
export interface Workload {
  metadata: {
    name?: string
    namespace?: string
    generation?: number
    labels?: Record<string, string>
  }
  spec?: {
    replicas?: number
    selector: LabelSelector
    template: PodTemplate
    paused?: boolean
    progressDeadlineSeconds?: number
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } }
  }
  status?: {
    observedGeneration?: number
    replicas?: number
    updatedReplicas?: number
    readyReplicas?: number
    availableReplicas?: number
    currentRevision?: string
    updateRevision?: string
    conditions?: WorkloadCondition[]
  }
}

export interface ContainerState {
  waiting?: { reason?: string; message?: string }
  terminated?: { reason?: string; message?: string; exitCode?: number }
  running?: { startedAt?: Date | string }
}

export interface Pod {
  metadata: { name?: string; labels?: Record<string, string>; creationTimestamp?: unknown }
  spec?: { containers: Container[] }
  status?: {
    phase?: string
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>
    containerStatuses?: Array<{
      name: string
      ready: boolean
      restartCount: number
      image?: string
      state?: ContainerState
      lastState?: ContainerState
    }>
  }
}

/** What the driver calls; one client per kubeconfig context. */
export interface KubernetesClient {
  /** The API server's URL, for messages. */
  readonly server: string
  /** GET /version: the cheapest authenticated call, used by ping. */
  version(): Promise<{ gitVersion?: string }>
  readWorkload(kind: WorkloadKind, namespace: string, name: string): Promise<Workload>
  listWorkloads(kind: WorkloadKind, namespace: string, labelSelector: string): Promise<Workload[]>
  patchWorkload(
    kind: WorkloadKind,
    namespace: string,
    name: string,
    patch: unknown,
    type: PatchType,
  ): Promise<Workload>
  /** PATCH of the scale subresource with a JSON merge patch of spec.replicas. */
  scaleWorkload(
    kind: WorkloadKind,
    namespace: string,
    name: string,
    replicas: number,
  ): Promise<void>
  listPods(namespace: string, labelSelector: string): Promise<Pod[]>
}

export interface KubeConfigOptions {
  /** A kubeconfig file; default KUBECONFIG, then ~/.kube/config, or the pod's service account. */
  kubeconfigPath?: string | undefined
  /** The context to use; default the kubeconfig's current-context. */
  context?: string | undefined
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token'

/** A KubeConfig as kubectl would find it; throws a message naming the file or context. */
export function loadKubeConfig(options: KubeConfigOptions): k8s.KubeConfig {
  const config = new k8s.KubeConfig()
  if (options.kubeconfigPath !== undefined) {
    config.loadFromFile(options.kubeconfigPath)
  } else if (process.env.KUBERNETES_SERVICE_HOST && existsSync(SERVICE_ACCOUNT_TOKEN)) {
    // Inside a pod the service account wins over any kubeconfig baked into the image.
    config.loadFromCluster()
  } else {
    config.loadFromDefault()
  }
  if (options.context !== undefined) {
    const names = config.getContexts().map((context) => context.name)
    if (!names.includes(options.context)) {
      throw new Error(
        `the kubeconfig has no context named "${options.context}"; its contexts are ${names.join(', ') || '(none)'}`,
      )
    }
    config.setCurrentContext(options.context)
  }
  return config
}

/** A KubernetesClient on @kubernetes/client-node for one loaded KubeConfig. */
export function connectKubernetes(config: k8s.KubeConfig): KubernetesClient {
  const apps = config.makeApiClient(k8s.AppsV1Api)
  const core = config.makeApiClient(k8s.CoreV1Api)
  const versionApi = config.makeApiClient(k8s.VersionApi)
  // The generated client picks the first PATCH content type (JSON patch) unless told otherwise.
  const as = (type: PatchType) => k8s.setHeaderOptions('Content-Type', PATCH_TYPES[type])
  // client-node's model classes are structurally the apps/v1 JSON; Workload names a subset.
  const workload = (value: unknown): Workload => value as Workload
  return {
    server: config.getCurrentCluster()?.server ?? '(no cluster in the kubeconfig)',
    version: () => versionApi.getCode(),
    readWorkload: async (kind, namespace, name) =>
      workload(
        kind === 'Deployment'
          ? await apps.readNamespacedDeployment({ name, namespace })
          : await apps.readNamespacedStatefulSet({ name, namespace }),
      ),
    listWorkloads: async (kind, namespace, labelSelector) => {
      const list =
        kind === 'Deployment'
          ? await apps.listNamespacedDeployment({ namespace, labelSelector })
          : await apps.listNamespacedStatefulSet({ namespace, labelSelector })
      return list.items.map(workload)
    },
    patchWorkload: async (kind, namespace, name, body, type) =>
      workload(
        kind === 'Deployment'
          ? await apps.patchNamespacedDeployment({ name, namespace, body }, as(type))
          : await apps.patchNamespacedStatefulSet({ name, namespace, body }, as(type)),
      ),
    scaleWorkload: async (kind, namespace, name, replicas) => {
      const body = { spec: { replicas } }
      if (kind === 'Deployment') {
        await apps.patchNamespacedDeploymentScale({ name, namespace, body }, as('merge'))
      } else {
        await apps.patchNamespacedStatefulSetScale({ name, namespace, body }, as('merge'))
      }
    },
    listPods: async (namespace, labelSelector) =>
      (await core.listNamespacedPod({ namespace, labelSelector })).items as unknown as Pod[],
  }
}

/** The HTTP status of an API error, when the server answered. */
export function apiStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'number' ? code : undefined
}

/**
 * The API server's own message (a Status object's `message`), else the error's. client-node's
 * ApiException message is several lines with headers; only the Status message helps a person.
 */
export function apiMessage(error: unknown): string {
  const body = (error as { body?: unknown } | null)?.body
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: string }
      if (status.message) {
        return status.message
      }
    } catch {
      return body.slice(0, 500)
    }
  }
  return error instanceof Error ? error.message.split('\n')[0]! : String(error)
}

/**
 * True for errors that mean the API server could not be reached at all. client-node v1 sends
 * through node-fetch, whose FetchError carries the socket's errno code; an answer carries `code`
 * as a number (the HTTP status) instead.
 */
export function isUnreachable(error: unknown): boolean {
  if (apiStatus(error) !== undefined) {
    return false
  }
  const code = (error as { code?: unknown; errno?: unknown } | null)?.code
  return (
    typeof code === 'string' &&
    /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|EAI_AGAIN|ENETUNREACH)$/.test(code)
  )
}
