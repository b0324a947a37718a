/**
 * Large payloads kept inflated or decoded in temporary files, for seeking. A range of a payload
 * stored in a `.warc.gz` was read by inflating its member from the start for every request, so
 * each seek of a player in a 40 MB video took 0.4 s: the first range request past the start of a
 * member of at least `SEEK_INFLATE_MIN_BYTES` inflates it into a temporary file, and later ones
 * read there. A payload stored with a `Content-Encoding` (or chunked) and sent decoded is so too
 * (decoded-bodies.ts).
 * @module
 */
import { createGunzip } from 'node:zlib'
import type { ByteSource, OpenFile } from './byte-source'
import { sliceSource } from './byte-source'
import type { Capture } from './capture-index'
import { inflateEntry } from './inflated-entry'

/** Members (and payloads) smaller than this are inflated on each read: it takes milliseconds. */
export const SEEK_INFLATE_MIN_BYTES = 1024 * 1024

/** How many such files each source keeps open (the least recently read goes first). */
const KEPT_PER_SOURCE = 4

/**
 * A kept file as one caller got it: `read` as the file's, and `release()` for a caller that ends
 * up reading nothing (its first read releases it too).
 */
export interface KeptFile extends OpenFile {
  readonly release: () => void
}

/** Files no longer kept whose reads are still under way: closed by `closeMembers` at the latest. */
const leaving = new WeakMap<ByteSource, Set<OpenFile>>()

/**
 * A file being made, and who still needs it: each caller of `keptFile` from the moment it asks
 * (before the file is made, and before its first read), and each read under way. An evicted one
 * is closed once none is left: closed when pushed out, a file failed with "file closed" in the
 * answer still streaming from it, or in one that had it but had not begun to read.
 */
class Shared {
  private users = 0
  private evicted = false

  constructor(
    readonly made: Promise<OpenFile | undefined>,
    private readonly left: Set<OpenFile>
  ) {}

  /** The file for one caller, who needs it from now on. */
  async lease(): Promise<KeptFile | undefined> {
    this.users++
    let held = true
    const release = () => {
      if (held) {
        held = false
        this.leave()
      }
    }
    const file = await this.made.catch((error: unknown) => {
      release()
      throw error
    })
    if (!file) {
      release()
      return undefined
    }
    const open = file
    const enter = () => {
      this.users++
      release()
    }
    const done = () => {
      this.leave()
    }
    async function* read(start: number, end: number, chunkSize?: number) {
      enter()
      try {
        yield* open.read(start, end, chunkSize)
      } finally {
        done()
      }
    }
    return { ...file, read, release }
  }

  /** No longer kept: closed once made and no longer needed, or by `closeMembers`. */
  evict(): void {
    this.evicted = true
    void this.made.then(
      (file) => file && this.left.add(file),
      () => undefined
    )
    this.leave(0)
  }

  private leave(by = 1): void {
    this.users -= by
    if (this.evicted && this.users === 0) {
      void this.made
        .then(async (file) => {
          if (file) {
            this.left.delete(file)
            await file.close()
          }
        })
        .catch(() => undefined)
    }
  }
}

const kept = new WeakMap<ByteSource, Map<string, Shared>>()

/**
 * The file `make` writes for `key` in `source`, made once and kept while it is among the last
 * four read of the source. `undefined` (from `make`) is kept too: the file would be no use.
 * The caller holds the file until its first read ends, or until it calls `release()`.
 */
export function keptFile(
  source: ByteSource,
  key: string,
  make: () => Promise<OpenFile | undefined>
): Promise<KeptFile | undefined> {
  let files = kept.get(source)
  let left = leaving.get(source)
  if (!files || !left) {
    files = new Map()
    left = new Set()
    kept.set(source, files)
    leaving.set(source, left)
  }
  let shared = files.get(key)
  if (shared) {
    files.delete(key)
  } else {
    const made = make()
    shared = new Shared(made, left)
    // A file that cannot be made is tried again next time, not kept.
    made.catch(() => files.delete(key))
  }
  files.set(key, shared)
  const leased = shared.lease()
  for (const [old, evicted] of files) {
    if (files.size <= KEPT_PER_SOURCE) {
      break
    }
    files.delete(old)
    evicted.evict()
  }
  return leased
}

/** The record of `capture` in `source` (a gzip member), inflated into an open file. */
export async function inflatedMember(source: ByteSource, capture: Capture): Promise<OpenFile> {
  const file = await keptFile(source, `member ${capture.offset}`, () => {
    const member = sliceSource(source, capture.offset, capture.length, source.name)
    return inflateEntry(member, source.name, () => undefined, createGunzip)
  })
  if (!file) {
    throw new Error(`${source.name}: the member at offset ${capture.offset} was not inflated`)
  }
  return file
}

/** Close the files kept for `sources`. */
export async function closeMembers(sources: readonly { bytes: ByteSource }[]): Promise<void> {
  for (const { bytes } of sources) {
    const files = kept.get(bytes)
    kept.delete(bytes)
    for (const file of files?.values() ?? []) {
      await file.made.then((open) => open?.close()).catch(() => undefined)
    }
    for (const file of leaving.get(bytes) ?? []) {
      await file.close().catch(() => undefined)
    }
    leaving.delete(bytes)
  }
}
