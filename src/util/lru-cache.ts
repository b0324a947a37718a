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
  /** How many entries are kept; the least recently used one goes first (see `get`). */
  readonly maxSize: number
  // A Map iterates in insertion order, so re-inserting an entry when it is used keeps the least
  // recently used one first: LRU without a linked list. An entry used while it is still among
  // the newer half is left where it is (one lookup instead of three on a hit): it is then at
  // least maxSize / 2 insertions away from being dropped, and is moved when used after that.
  readonly #entries = new Map<K, Entry<V>>()
  readonly #pending = new Map<K, Promise<V>>()
  /** Insertions so far: an entry's `stamp` is this count when it was last (re)inserted. */
  #inserted = 0
  readonly #refreshAge: number

  constructor(maxSize: number) {
    if (!Number.isInteger(maxSize) || maxSize < 0) {
      throw new RangeError(`cache size must be a whole number >= 0, got ${maxSize}`)
    }
    this.maxSize = maxSize
    this.#refreshAge = Math.max(1, maxSize >> 1)
  }

  /** Number of entries held (pending creations not included). */
  get size(): number {
    return this.#entries.size
  }

  /**
   * The entry for key, undefined on a miss. A hit is kept for at least `maxSize / 2` more
   * insertions: an entry read at least that often is never dropped.
   */
  get(key: K): V | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) {
      return undefined
    }
    // Enough insertions since its own that it may be in the older half: move it to the end.
    if (this.#inserted - entry.stamp >= this.#refreshAge) {
      this.#entries.delete(key)
      entry.stamp = ++this.#inserted
      this.#entries.set(key, entry)
    }
    return entry.value
  }

  /** Stores an entry as the most recently used, evicting the least recently used past maxSize. */
  set(key: K, value: V): void {
    this.#entries.delete(key)
    if (this.maxSize === 0) {
      return
    }
    this.#entries.set(key, { value, stamp: ++this.#inserted })
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

interface Entry<V> {
  readonly value: V
  stamp: number
}
