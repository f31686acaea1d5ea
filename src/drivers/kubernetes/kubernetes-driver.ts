/** The kubernetes driver: restarts, re-tags and scales Deployments and StatefulSets, then follows them. */
import { DeckhandError } from '../../errors.ts'
import type { Service } from '../../model/index.ts'
import { DeployFailure } from '../deploy-failure.ts'
import type {
  Driver,
  DriverCapabilities,
  DriverContext,
  DriverOutcome,
  RedeployChange,
  ServiceStatus,
} from '../driver.ts'
import type { KubeConfigOptions, KubernetesClient, Workload } from './kubernetes-client.ts'
import {
  apiMessage,
  apiStatus,
  connectKubernetes,
  isUnreachable,
  loadKubeConfig,
} from './kubernetes-client.ts'
import type { KubernetesTarget } from './kubernetes-target.ts'
import {
  checkKubernetesTarget,
  chooseContainer,
  parseKubernetesTarget,
  selectorString,
} from './kubernetes-target.ts'
import { podStatus } from './pod-status.ts'
import { planRedeploy, type RedeployPlan, rollbackPatch } from './redeploy-patch.ts'
import { followRollout, podProblems, type RolloutResult, rolloutStatus } from './rollout-watch.ts'

export interface KubernetesDriverOptions {
  /** A kubeconfig file; default the pod's service account, else KUBECONFIG, else ~/.kube/config. */
  kubeconfigPath?: string
  /** The kubeconfig context for services whose target names none; default its current-context. */
  context?: string
  /** Time between polls of a rollout. Default 1000 ms. */
  pollMs?: number
  /** How long ping waits for the API server to answer. Default 5000 ms. */
  pingTimeoutMs?: number
}

/** A failure whose message is already the outcome's error. */

export class KubernetesDriver implements Driver {
  readonly name = 'kubernetes' as const
  readonly capabilities: DriverCapabilities = Object.freeze({
    canScale: true,
    canChangeTag: true,
    // The driver restores the previous pod template itself when deploy.rollback is on.
    canRollBack: true,
    waitsForHealth: true,
  })
  readonly #options: Readonly<KubernetesDriverOptions>
  // One client per context: a target may name its own, and loading a kubeconfig reads files.
  readonly #clients = new Map<string, KubernetesClient>()

  constructor(options: KubernetesDriverOptions = {}) {
    this.#options = Object.freeze({ ...options })
  }

  checkTarget(target: Record<string, unknown>): string[] {
    return checkKubernetesTarget(target)
  }

  async redeploy(
    service: Service,
    change: RedeployChange,
    ctx: DriverContext,
  ): Promise<DriverOutcome> {
    return this.#withClient(service, async (client, target) => {
      const workloads = await this.#resolve(client, target)
      // One timestamp for every match, so a selector's workloads carry the same restart marker.
      const restartedAt = new Date().toISOString()
      // Every plan is made before the first patch, so an ambiguous container changes nothing.
      const plans = workloads.map((workload) => {
        const label = labelOf(target, workload)
        refuseUnwatchable(workload, target, label)
        return {
          name: workload.metadata.name!,
          label,
          plan: planRedeploy(workload, label, service, change, restartedAt),
        }
      })
      // Sequential patches, parallel watches: a refused patch stops before touching the rest.
      for (const { name, plan } of plans) {
        ctx.log(plan.summary)
        await client.patchWorkload(target.kind, target.namespace, name, plan.patch, 'strategic')
      }
      const results = await Promise.all(
        plans.map(({ name }) => this.#follow(client, target, name, service, ctx)),
      )
      const failures = results.filter((result) => result.state !== 'complete')
      if (failures.length === 0) {
        const replicas = results.reduce(
          (sum, r) => sum + (r.state === 'complete' ? (r.workload.spec?.replicas ?? 1) : 0),
          0,
        )
        return { state: 'succeeded', replicas, tag: change.tag ?? null }
      }
      const reasons = failures.map((f) =>
        f.state === 'stalled' && f.podProblems.length > 0
          ? `${f.message}; ${f.podProblems.join('; ')}`
          : f.message,
      )
      let error = reasons.join('; ')
      // A cancel or deadline lands here too: the patch back is one request, well inside the
      // GuardedDriver's settle time, and leaves no half-rolled-out template behind.
      if (!service.deploy.rollback) {
        error += `; not rolled back (deploy.rollback is off): undo with kubectl rollout undo -n ${target.namespace} ${target.kind.toLowerCase()}/<name>`
      } else {
        error += `; ${await this.#rollBack(client, target, plans, service, ctx)}`
      }
      ctx.log(error)
      return { state: 'failed', error }
    })
  }

  async scale(
    service: Service,
    replicas: number,
    _change: RedeployChange,
    ctx: DriverContext,
  ): Promise<DriverOutcome> {
    return this.#withClient(service, async (client, target) => {
      const workloads = await this.#resolve(client, target)
      if (workloads.length > 1) {
        const names = workloads.map((w) => w.metadata.name).join(', ')
        throw new DeployFailure(
          `the selector ${selectorString({ matchLabels: target.selector! })} matches ${workloads.length} ${target.kind}s (${names}); scaling needs exactly one, so narrow the selector or name the workload`,
        )
      }
      const workload = workloads[0]!
      const label = labelOf(target, workload)
      // spec.replicas defaults to 1 on the API server, so an absent field means one.
      const from = workload.spec?.replicas ?? 1
      ctx.log(
        from === replicas
          ? `${label} already wants ${replicas} replicas; waiting for them`
          : `scaling ${label} from ${from} to ${replicas} replicas (scale subresource)`,
      )
      if (from !== replicas) {
        await client.scaleWorkload(target.kind, target.namespace, workload.metadata.name!, replicas)
      }
      const result = await this.#follow(
        client,
        target,
        workload.metadata.name!,
        service,
        ctx,
        replicas,
      )
      if (result.state === 'complete') {
        return { state: 'succeeded', replicas }
      }
      const detail =
        result.state === 'stalled' && result.podProblems.length > 0
          ? `; ${result.podProblems.join('; ')}`
          : ''
      return { state: 'failed', error: `${result.message}${detail}` }
    })
  }

  // Ready replicas, not spec.replicas: inspect reports what runs, and the contract's scale test
  // reads it right after a scale has converged.
  async inspect(service: Service): Promise<ServiceStatus> {
    const target = parseKubernetesTarget(service.target)
    const client = this.#client(target.context)
    try {
      const workloads = await this.#resolve(client, target)
      const pods = (
        await Promise.all(
          workloads.map((w) => client.listPods(target.namespace, selectorString(w.spec!.selector))),
        )
      ).flat()
      const containers = workloads[0]?.spec?.template.spec?.containers ?? []
      let image: string | null = null
      try {
        image =
          chooseContainer(containers, service.image, labelOf(target, workloads[0]!)).image ?? null
      } catch {
        image = containers[0]?.image ?? null
      }
      const problems = podProblems(pods)
      const ready = workloads.reduce((sum, w) => sum + (w.status?.readyReplicas ?? 0), 0)
      return {
        replicas: ready,
        ready,
        desired: workloads.reduce((sum, w) => sum + (w.spec?.replicas ?? 1), 0),
        image,
        healthy: workloads.every((w) => rolloutStatus(target.kind, w).phase === 'done'),
        items: pods.map((pod) => podStatus(pod, problems)),
      }
    } catch (error) {
      if (error instanceof DeployFailure) {
        return {
          replicas: null,
          ready: null,
          desired: null,
          image: null,
          healthy: false,
          items: [],
          detail: error.message,
        }
      }
      throw this.#unreachable(client, error) ?? error
    }
  }

  // The workloads exist before Deckhand knows them and outlive it: nothing to start or stop.
  async attach(): Promise<void> {}

  async detach(): Promise<void> {}

  async ping(): Promise<void> {
    // The default context always, and every context a service's target has used since start:
    // /readyz should go red when any cluster Deckhand deploys to is gone.
    this.#client(null)
    await Promise.all([...this.#clients.values()].map((client) => this.#pingOne(client)))
  }

  async #pingOne(client: KubernetesClient): Promise<void> {
    const timeoutMs = this.#options.pingTimeoutMs ?? 5000
    let timer: NodeJS.Timeout | undefined
    // client-node takes no AbortSignal per call, and a blackholed address would hang /readyz.
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })),
        timeoutMs,
      )
    })
    try {
      await Promise.race([client.version(), timeout])
    } catch (error) {
      throw (
        this.#unreachable(client, error) ??
        new DeckhandError(
          'DH_ERR_DRIVER_UNAVAILABLE',
          `the Kubernetes API server at ${client.server} answered GET /version with ${apiStatus(error) ?? 'an error'}: ${apiMessage(error)}`,
          { cause: error },
        )
      )
    } finally {
      clearTimeout(timer)
    }
  }

  async close(): Promise<void> {
    this.#clients.clear()
  }

  #client(context: string | null): KubernetesClient {
    const options: KubeConfigOptions = {
      kubeconfigPath: this.#options.kubeconfigPath,
      context: context ?? this.#options.context,
    }
    const key = options.context ?? ''
    let client = this.#clients.get(key)
    if (!client) {
      try {
        client = connectKubernetes(loadKubeConfig(options))
      } catch (error) {
        const file = options.kubeconfigPath ?? process.env.KUBECONFIG ?? '~/.kube/config'
        throw new DeckhandError(
          'DH_ERR_DRIVER_UNAVAILABLE',
          `the kubernetes driver cannot load its configuration from ${file}: ${apiMessage(error)}`,
          { cause: error },
        )
      }
      this.#clients.set(key, client)
    }
    return client
  }

  /** The workloads a target names: one by name, or every match of its selector (at least one). */
  async #resolve(client: KubernetesClient, target: KubernetesTarget): Promise<Workload[]> {
    if (target.name !== null) {
      try {
        return [await client.readWorkload(target.kind, target.namespace, target.name)]
      } catch (error) {
        if (apiStatus(error) === 404) {
          throw new DeployFailure(
            `no ${target.kind} named "${target.name}" in namespace "${target.namespace}" on ${client.server}; check kubectl get ${target.kind.toLowerCase()} -n ${target.namespace}`,
          )
        }
        throw error
      }
    }
    const selector = selectorString({ matchLabels: target.selector! })
    const found = await client.listWorkloads(target.kind, target.namespace, selector)
    if (found.length === 0) {
      throw new DeployFailure(
        `no ${target.kind} in namespace "${target.namespace}" matches the selector ${selector} on ${client.server}`,
      )
    }
    return found
  }

  #follow(
    client: KubernetesClient,
    target: KubernetesTarget,
    name: string,
    service: Service,
    ctx: DriverContext,
    replicas?: number,
  ): Promise<RolloutResult> {
    return followRollout(client, target.kind, target.namespace, name, ctx, {
      pollMs: this.#options.pollMs ?? 1000,
      statefulSetDeadlineMs: service.deploy.healthTimeoutMs,
      ...(replicas === undefined ? {} : { replicas }),
    })
  }

  /** Restores each previous template, then (unless canceled) follows the rollbacks briefly. */
  async #rollBack(
    client: KubernetesClient,
    target: KubernetesTarget,
    plans: Array<{ name: string; label: string; plan: RedeployPlan }>,
    service: Service,
    ctx: DriverContext,
  ): Promise<string> {
    const said: string[] = []
    const restored: string[] = []
    for (const { name, label, plan } of plans) {
      try {
        await client.patchWorkload(target.kind, target.namespace, name, rollbackPatch(plan), 'json')
        restored.push(name)
        said.push(
          `rolled back ${label} to its previous pod template (as kubectl rollout undo does)`,
        )
      } catch (error) {
        const why =
          apiStatus(error) === 422
            ? 'its pod template changed since Deckhand patched it'
            : apiMessage(error)
        said.push(`could not roll back ${label}: ${why}`)
      }
    }
    ctx.log(said.join('; '))
    if (ctx.signal.aborted || restored.length === 0) {
      return said.join('; ')
    }
    const results = await Promise.all(
      restored.map((name) => this.#follow(client, target, name, service, ctx)),
    )
    const stuck = results.filter((r) => r.state !== 'complete')
    if (stuck.length === 0) {
      return `${said.join('; ')}; the previous pods are ready again`
    }
    // kubernetes/kubernetes#67250: an OrderedReady StatefulSet waits for a broken pod forever.
    const hint =
      target.kind === 'StatefulSet'
        ? ' (a StatefulSet keeps a broken pod until it is deleted: kubectl delete pod)'
        : ''
    return `${said.join('; ')}; the rollback has not finished: ${stuck.map((r) => r.message).join('; ')}${hint}`
  }

  /**
   * Runs `work` with the client of the target's context. A raw API error is worded here, where
   * the server is known, and thrown on as a DeployFailure for GuardedDriver to record.
   */
  async #withClient(
    service: Service,
    work: (client: KubernetesClient, target: KubernetesTarget) => Promise<DriverOutcome>,
  ): Promise<DriverOutcome> {
    const target = parseKubernetesTarget(service.target)
    const client = this.#client(target.context)
    try {
      return await work(client, target)
    } catch (error) {
      if (error instanceof DeployFailure || error instanceof DeckhandError) {
        throw error
      }
      const status = apiStatus(error) ?? 'no status'
      const message =
        this.#unreachable(client, error)?.message ??
        `the Kubernetes API server at ${client.server} refused a request (${status}): ${apiMessage(error)}`
      throw new DeployFailure(message, { cause: error })
    }
  }

  #unreachable(client: KubernetesClient, error: unknown): DeckhandError | null {
    if (!isUnreachable(error)) {
      return null
    }
    return new DeckhandError(
      'DH_ERR_DRIVER_UNAVAILABLE',
      `the Kubernetes API server at ${client.server} cannot be reached (${(error as { code?: string }).code}); check the kubeconfig's cluster server and that the cluster runs`,
      { cause: error },
    )
  }
}

function labelOf(target: KubernetesTarget, workload: Workload): string {
  return `${target.kind} ${target.namespace}/${workload.metadata.name ?? '?'}`
}

/** Rollouts that would never progress are refused before anything is patched. */
function refuseUnwatchable(workload: Workload, target: KubernetesTarget, label: string): void {
  if (target.kind === 'Deployment' && workload.spec?.paused) {
    throw new DeployFailure(
      `${label} is paused, so it would not roll out; resume it with kubectl rollout resume -n ${target.namespace} deployment/${workload.metadata.name}`,
    )
  }
  const strategy = workload.spec?.updateStrategy?.type
  if (target.kind === 'StatefulSet' && strategy !== undefined && strategy !== 'RollingUpdate') {
    throw new DeployFailure(
      `${label} uses updateStrategy ${strategy}: its pods change only when deleted, which Deckhand does not do; use RollingUpdate`,
    )
  }
}
