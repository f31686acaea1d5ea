/** Group commit: items that arrive together share one transaction, answered once it commits. */

/** An item's answer from inside its group's transaction: a value, or the error failing it alone. */
export type GroupAnswer<R> = { ok: true; value: R } | { ok: false; error: unknown }

/**
 * Runs one transaction over `group` and answers each item, in order. Throwing (the storage
 * cannot commit) fails every item of the group. A backend that retries its transaction calls
 * its work again and answers from the last attempt only.
 */
export type CommitGroup<T, R> = (group: T[]) => GroupAnswer<R>[] | Promise<GroupAnswer<R>[]>

interface Pending<T, R> {
  item: T
  resolve: (value: R) => void
  reject: (error: unknown) => void
}

/**
 * Groups the items submitted while the previous group commits (or, when idle, in the same turn
 * of the event loop) into one transaction, so a burst pays for one flush to disk instead of one
 * each, and items are applied in the order they arrived. No item is answered before its group
 * has committed.
 */
export class GroupCommit<T, R> {
  readonly #commit: CommitGroup<T, R>
  readonly #maxGroup: number
  readonly #durable: (() => Promise<void>) | undefined
  #pending: Pending<T, R>[] = []
  #busy = false

  /**
   * `maxGroup` bounds the items of one transaction; the rest wait for the next. With `durable`,
   * a committed group is answered once `durable()` settles, and the next group may commit
   * meanwhile: a backend whose commit returns before the disk has the data says when it does.
   */
  constructor(
    commit: CommitGroup<T, R>,
    options: { maxGroup?: number; durable?: () => Promise<void> } = {},
  ) {
    this.#commit = commit
    this.#maxGroup = options.maxGroup ?? Infinity
    this.#durable = options.durable
  }

  /** Resolves with the item's answer once its group has committed. */
  submit(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ item, resolve, reject })
      if (!this.#busy) {
        this.#busy = true
        setImmediate(() => void this.#flush())
      }
    })
  }

  async #flush(): Promise<void> {
    const group = this.#pending.splice(0, this.#maxGroup)
    try {
      const answers = await this.#commit(group.map((pending) => pending.item))
      if (this.#durable) {
        void this.#durable().then(
          () => answerGroup(group, answers),
          (error: unknown) => rejectGroup(group, error),
        )
      } else {
        answerGroup(group, answers)
      }
    } catch (error) {
      rejectGroup(group, error)
    }
    if (this.#pending.length > 0) {
      setImmediate(() => void this.#flush())
    } else {
      this.#busy = false
    }
  }
}

function answerGroup<T, R>(group: Pending<T, R>[], answers: GroupAnswer<R>[]): void {
  group.forEach((pending, index) => {
    const answer = answers[index]!
    if (answer.ok) {
      pending.resolve(answer.value)
    } else {
      pending.reject(answer.error)
    }
  })
}

function rejectGroup<T, R>(group: Pending<T, R>[], error: unknown): void {
  for (const pending of group) {
    pending.reject(error)
  }
}
