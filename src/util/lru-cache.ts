/**
 * A bounded least-recently-used map whose misses are filled by one shared promise per key.
 * @module
 */

/**
 * Bounded LRU cache; concurrent misses for one key share a single `create()` call.
 * @example
 * const cache = new LruCache<string, SecureContext>(1000)
 * const context = await cache.getOrCreate(name, () => issue(name))
 */
export class LruCache<K, V> {
  /** How many entries are kept; the least recently used one goes first. */
  readonly maxSize: number
  // A Map iterates in insertion order, so re-inserting on every hit keeps the least recently
  // used entry first: O(1) LRU without a linked list.
  readonly #entries = new Map<K, V>()
  readonly #pending = new Map<K, Promise<V>>()

  constructor(maxSize: number) {
    if (!Number.isInteger(maxSize) || maxSize < 0) {
      throw new RangeError(`cache size must be a whole number >= 0, got ${maxSize}`)
    }
    this.maxSize = maxSize
  }

  /** Number of entries held (pending creations not included). */
  get size(): number {
    return this.#entries.size
  }

  /** The entry for key, marked as most recently used; undefined on a miss. */
  get(key: K): V | undefined {
    const value = this.#entries.get(key)
    if (value !== undefined) {
      this.#entries.delete(key)
      this.#entries.set(key, value)
    }
    return value
  }

  /** Stores an entry as the most recently used, evicting the least recently used past maxSize. */
  set(key: K, value: V): void {
    this.#entries.delete(key)
    if (this.maxSize === 0) {
      return
    }
    this.#entries.set(key, value)
    if (this.#entries.size > this.maxSize) {
      const oldest = this.#entries.keys().next().value as K
      this.#entries.delete(oldest)
    }
  }

  /** Drops an entry; returns whether there was one. */
  delete(key: K): boolean {
    return this.#entries.delete(key)
  }

  /** Drops every entry (pending creations still settle into the cache). */
  clear(): void {
    this.#entries.clear()
  }

  /**
   * The cached entry when it is still fresh, else the result of `create()`, which runs at most
   * once at a time per key: every caller that misses meanwhile awaits the same promise. A
   * rejected creation is not cached, so the next call tries again.
   */
  getOrCreate(
    key: K,
    create: () => Promise<V>,
    isFresh: (value: V) => boolean = () => true
  ): Promise<V> {
    const cached = this.get(key)
    if (cached !== undefined && isFresh(cached)) {
      return Promise.resolve(cached)
    }
    const pending = this.#pending.get(key)
    if (pending) {
      return pending
    }
    const created = create().then(
      (value) => {
        this.#pending.delete(key)
        this.set(key, value)
        return value
      },
      (error: unknown) => {
        this.#pending.delete(key)
        throw error
      }
    )
    this.#pending.set(key, created)
    return created
  }
}
