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

const kept = new WeakMap<ByteSource, Map<string, Promise<OpenFile | undefined>>>()

/** How each kept file is let go of: see `sharedFile`. */
const evictors = new WeakMap<OpenFile, () => void>()

/** Files no longer kept whose reads are still under way: closed by `closeMembers` at the latest. */
const leaving = new WeakMap<ByteSource, Set<OpenFile>>()

/**
 * `file`, closed by `evict()` only once no read of it is under way: a response streaming from a
 * file that four others had pushed out failed with "file closed" halfway through its body.
 */
function sharedFile(file: OpenFile, left: Set<OpenFile>): { file: OpenFile; evict: () => void } {
  let reading = 0
  let evicted = false
  const closeIfIdle = () => {
    if (evicted && reading === 0) {
      left.delete(file)
      void file.close().catch(() => undefined)
    }
  }
  async function* read(start: number, end: number, chunkSize?: number) {
    reading++
    try {
      yield* file.read(start, end, chunkSize)
    } finally {
      reading--
      closeIfIdle()
    }
  }
  return {
    file: { ...file, read },
    evict: () => {
      evicted = true
      left.add(file)
      closeIfIdle()
    },
  }
}

/**
 * The file `make` writes for `key` in `source`, made once and kept while it is among the last
 * four read of the source. `undefined` (from `make`) is kept too: the file would be no use.
 */
export function keptFile(
  source: ByteSource,
  key: string,
  make: () => Promise<OpenFile | undefined>
): Promise<OpenFile | undefined> {
  let files = kept.get(source)
  let left = leaving.get(source)
  if (!files || !left) {
    files = new Map()
    left = new Set()
    kept.set(source, files)
    leaving.set(source, left)
  }
  const ownLeft = left
  let file = files.get(key)
  if (file) {
    files.delete(key)
  } else {
    file = make().then((made) => {
      if (!made) {
        return undefined
      }
      const wrapped = sharedFile(made, ownLeft)
      evictors.set(wrapped.file, wrapped.evict)
      return wrapped.file
    })
    // A file that cannot be made is tried again next time, not kept.
    file.catch(() => files.delete(key))
  }
  files.set(key, file)
  for (const [old, evicted] of files) {
    if (files.size <= KEPT_PER_SOURCE) {
      break
    }
    files.delete(old)
    void evicted.then((open) => open && evictors.get(open)?.()).catch(() => undefined)
  }
  return file
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
      await file.then((open) => open?.close()).catch(() => undefined)
    }
    for (const file of leaving.get(bytes) ?? []) {
      await file.close().catch(() => undefined)
    }
    leaving.delete(bytes)
  }
}
