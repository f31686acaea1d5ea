/**
 * The typed event map: what happened, for listeners that stream logs, notify senders and
 * count metrics. A listener that throws is logged as a listener bug and never stops the emitter.
 */
import type { Call, Deployment, LogLine, Service, Trigger } from './model/index.ts'

export interface DeckhandEvents {
  'call:recorded': { call: Call }
  /** A trigger call answered 503 at the intake's bound: nothing of it was recorded. */
  'call:shed': Record<string, never>
  'deployment:queued': { deployment: Deployment }
  'deployment:started': { deployment: Deployment; service: Service }
  'deployment:log': { deploymentId: string; lines: LogLine[] }
  /**
   * Some instance sharing the store (heard through `Store.subscribe`, so also this instance)
   * committed log lines of the deployment, or its end: followers and waiters re-read the store.
   */
  'deployment:remote-change': { deploymentId: string }
  'deployment:finished': { deployment: Deployment; service: Service | undefined }
  /** A trigger was created, rotated or revoked through the admin API. */
  'trigger:changed': { trigger: Trigger }
}

export type EventName = keyof DeckhandEvents
type Listener<E extends EventName> = (payload: DeckhandEvents[E]) => void | Promise<void>

export class EventBus {
  #listeners = new Map<EventName, Set<Listener<never>>>()
  #onListenerError: (error: unknown, event: EventName) => void

  constructor(onListenerError: (error: unknown, event: EventName) => void) {
    this.#onListenerError = onListenerError
  }

  /** Adds a listener; returns the function that removes it. */
  on<E extends EventName>(event: E, listener: Listener<E>): () => void {
    let set = this.#listeners.get(event)
    if (!set) {
      set = new Set()
      this.#listeners.set(event, set)
    }
    set.add(listener as Listener<never>)
    return () => set.delete(listener as Listener<never>)
  }

  emit<E extends EventName>(event: E, payload: DeckhandEvents[E]): void {
    const set = this.#listeners.get(event)
    if (!set) {
      return
    }
    for (const listener of set) {
      try {
        const result = (listener as Listener<E>)(payload)
        if (result instanceof Promise) {
          result.catch((error: unknown) => this.#onListenerError(error, event))
        }
      } catch (error) {
        this.#onListenerError(error, event)
      }
    }
  }
}
