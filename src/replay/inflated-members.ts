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
  if (!files) {
    files = new Map()
    kept.set(source, files)
  }
  let file = files.get(key)
  if (file) {
    files.delete(key)
  } else {
    file = make()
    // A file that cannot be made is tried again next time, not kept.
    file.catch(() => files.delete(key))
  }
  files.set(key, file)
  for (const [old, evicted] of files) {
    if (files.size <= KEPT_PER_SOURCE) {
      break
    }
    files.delete(old)
    void evicted.then((open) => open?.close()).catch(() => undefined)
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
  }
}
