/**
 * The index of one collection: where each capture is, for which URL key, at what time. Kept in
 * columns of typed arrays, with a 64-bit digest of each key instead of the key itself, so a
 * capture costs about 40 bytes whatever the length of its URL (the record it points to holds
 * the URL, and is read anyway to answer).
 * @module
 */
import type { BodyKey } from './body-key'
import { keyHash, urlKeys } from './canonical'

/** What kind of record a capture is, and how it was requested. */
export const RecordKind = { response: 0, revisit: 1, resource: 2 } as const
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind]

/** Captures of GET (and HEAD) requests, of OPTIONS, and of any other method, are kept apart. */
export const MethodClass = { get: 0, options: 1, other: 2 } as const
export type MethodClass = (typeof MethodClass)[keyof typeof MethodClass]

/** One capture, as the index gives it back. */
export interface Capture {
  /** Which of the collection's WARC sources holds the record. */
  source: number
  offset: number
  length: number
  /** Capture time in seconds since the epoch. */
  time: number
  kind: RecordKind
  method: MethodClass
}

/** What the indexer adds: a capture and the URL it is for. */
export interface CaptureEntry extends Capture {
  url: string
  /** The key of the request body a capture of another method answered, when it is known. */
  body?: BodyKey
}

/** The method class of an HTTP method. */
export function methodClass(method: string | undefined | null): MethodClass {
  if (method === 'GET' || method === 'HEAD') {
    return MethodClass.get
  }
  const upper = (method ?? 'GET').toUpperCase()
  return upper === 'GET' || upper === 'HEAD'
    ? MethodClass.get
    : upper === 'OPTIONS'
      ? MethodClass.options
      : MethodClass.other
}

const INITIAL = 1024

type Column = Uint32Array | Float64Array | Uint16Array | Uint8Array

/** Row `i` of a column (`noUncheckedIndexedAccess` types every read as possibly undefined). */
const at = (column: Column, i: number): number => column[i] ?? 0

/** Collects captures, then sorts them once into a {@link CaptureIndex}. */
export class CaptureIndexBuilder {
  #size = 0
  #hi = new Uint32Array(INITIAL)
  #lo = new Uint32Array(INITIAL)
  #looseHi = new Uint32Array(INITIAL)
  #looseLo = new Uint32Array(INITIAL)
  #time = new Uint32Array(INITIAL)
  #offset = new Float64Array(INITIAL)
  #length = new Float64Array(INITIAL)
  #source = new Uint16Array(INITIAL)
  #flags = new Uint8Array(INITIAL)
  /** Body keys by row: only captures of methods with a body have one, so a map, not a column. */
  #bodies = new Map<number, BodyKey>()

  get size(): number {
    return this.#size
  }

  add(entry: CaptureEntry): void {
    if (this.#size === this.#hi.length) {
      this.#grow()
    }
    const i = this.#size++
    const keys = urlKeys(entry.url)
    const [hi, lo] = keyHash(keys.exact)
    const [looseHi, looseLo] = keys.loose === keys.exact ? [hi, lo] : keyHash(keys.loose)
    this.#hi[i] = hi
    this.#lo[i] = lo
    this.#looseHi[i] = looseHi
    this.#looseLo[i] = looseLo
    this.#time[i] = Math.max(0, Math.min(0xffffffff, Math.floor(entry.time)))
    this.#offset[i] = entry.offset
    this.#length[i] = entry.length
    this.#source[i] = entry.source
    this.#flags[i] = entry.kind | (entry.method << 2)
    if (entry.body) {
      this.#bodies.set(i, entry.body)
    }
  }

  #grow(): void {
    const n = this.#hi.length * 2
    const grown = <T extends Uint32Array | Float64Array | Uint16Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(n)
      b.set(a)
      return b
    }
    this.#hi = grown(this.#hi)
    this.#lo = grown(this.#lo)
    this.#looseHi = grown(this.#looseHi)
    this.#looseLo = grown(this.#looseLo)
    this.#time = grown(this.#time)
    this.#offset = grown(this.#offset)
    this.#length = grown(this.#length)
    this.#source = grown(this.#source)
    this.#flags = grown(this.#flags)
  }

  /** Sort by key and time into an index; the builder is spent afterwards. */
  build(): CaptureIndex {
    const n = this.#size
    const order = sortedOrder(n, this.#hi, this.#lo, this.#time)
    const pick = <T extends Uint32Array | Float64Array | Uint16Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(n)
      for (let i = 0; i < n; i++) {
        b[i] = at(a, at(order, i))
      }
      return b
    }
    const columns: Columns = {
      hi: pick(this.#hi),
      lo: pick(this.#lo),
      looseHi: pick(this.#looseHi),
      looseLo: pick(this.#looseLo),
      time: pick(this.#time),
      offset: pick(this.#offset),
      length: pick(this.#length),
      source: pick(this.#source),
      flags: pick(this.#flags),
    }
    const looseOrder = sortedOrder(n, columns.looseHi, columns.looseLo, columns.time)
    const bodies = new Map<number, BodyKey>()
    if (this.#bodies.size > 0) {
      for (let i = 0; i < n; i++) {
        const body = this.#bodies.get(at(order, i))
        if (body) {
          bodies.set(i, body)
        }
      }
    }
    return new CaptureIndex(n, columns, looseOrder, bodies)
  }
}

interface Columns {
  hi: Uint32Array
  lo: Uint32Array
  looseHi: Uint32Array
  looseLo: Uint32Array
  time: Uint32Array
  offset: Float64Array
  length: Float64Array
  source: Uint16Array
  flags: Uint8Array
}

function sortedOrder(n: number, hi: Uint32Array, lo: Uint32Array, time: Uint32Array): Uint32Array {
  const order = new Uint32Array(n)
  for (let i = 0; i < n; i++) {
    order[i] = i
  }
  return order.sort(
    (a, b) => at(hi, a) - at(hi, b) || at(lo, a) - at(lo, b) || at(time, a) - at(time, b) || a - b
  )
}

/** The sorted captures of a collection, looked up by URL. */
export class CaptureIndex {
  readonly size: number
  readonly #c: Columns
  readonly #looseOrder: Uint32Array
  readonly #bodies: ReadonlyMap<number, BodyKey>

  constructor(
    size: number,
    columns: Columns,
    looseOrder: Uint32Array,
    bodies: ReadonlyMap<number, BodyKey> = new Map()
  ) {
    this.size = size
    this.#c = columns
    this.#looseOrder = looseOrder
    this.#bodies = bodies
  }

  /** Bytes held by the index's columns. */
  get byteLength(): number {
    return (
      (Object.values(this.#c) as Column[]).reduce((sum, column) => sum + column.byteLength, 0) +
      this.#looseOrder.byteLength
    )
  }

  /**
   * The captures of `url` requested with `method`, oldest first: those with the same canonical
   * key, or else those whose key matches once cache-busting parameters are dropped. Given the
   * key of a request `body`, only the captures whose request had that body, when there are any.
   */
  lookup(url: string, method: MethodClass, body?: BodyKey): Capture[] {
    const keys = urlKeys(url)
    const exact = this.#range(this.#c.hi, this.#c.lo, undefined, keyHash(keys.exact))
    const found = exact.filter((i) => this.#method(i) === method)
    if (found.length > 0) {
      return this.#sameBody(found, body).map((i) => this.#capture(i))
    }
    const looseOrder = this.#looseOrder
    const loose = this.#range(this.#c.looseHi, this.#c.looseLo, looseOrder, keyHash(keys.loose))
    const rows = loose
      .filter((i) => this.#method(i) === method)
      .sort((a, b) => at(this.#c.time, a) - at(this.#c.time, b))
    return this.#sameBody(rows, body).map((i) => this.#capture(i))
  }

  /** The rows whose request had `body`, or all of them when none had it. */
  #sameBody(rows: number[], body: BodyKey | undefined): number[] {
    if (!body || this.#bodies.size === 0) {
      return rows
    }
    const same = rows.filter((i) => {
      const theirs = this.#bodies.get(i)
      return theirs?.[0] === body[0] && theirs[1] === body[1]
    })
    return same.length > 0 ? same : rows
  }

  /** Every capture, in index order (for listings and tests). */
  *captures(): Generator<Capture> {
    for (let i = 0; i < this.size; i++) {
      yield this.#capture(i)
    }
  }

  #method(i: number): MethodClass {
    return (at(this.#c.flags, i) >> 2) as MethodClass
  }

  #capture(i: number): Capture {
    const c = this.#c
    const flags = at(c.flags, i)
    return {
      source: at(c.source, i),
      offset: at(c.offset, i),
      length: at(c.length, i),
      time: at(c.time, i),
      kind: (flags & 3) as RecordKind,
      method: (flags >> 2) as MethodClass,
    }
  }

  /** The rows whose key digest is `[hi, lo]`, through `order` when the columns are not sorted. */
  #range(
    hiCol: Uint32Array,
    loCol: Uint32Array,
    order: Uint32Array | undefined,
    [hi, lo]: [number, number]
  ): number[] {
    const row = (k: number) => (order ? at(order, k) : k)
    let low = 0
    let high = this.size
    while (low < high) {
      const mid = (low + high) >>> 1
      const r = row(mid)
      const h = at(hiCol, r)
      if (h < hi || (h === hi && at(loCol, r) < lo)) {
        low = mid + 1
      } else {
        high = mid
      }
    }
    const rows: number[] = []
    for (let k = low; k < this.size; k++) {
      const r = row(k)
      if (hiCol[r] !== hi || loCol[r] !== lo) {
        break
      }
      rows.push(r)
    }
    return rows
  }
}
