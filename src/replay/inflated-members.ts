/**
 * Large records in gzip members, inflated once for seeking: a range of a payload stored in a
 * `.warc.gz` was read by inflating its member from the start for every request, so each seek of
 * a player in a 40 MB video took 0.4 s. The first range request past the start of a member of
 * at least `SEEK_INFLATE_MIN_BYTES` inflates it into a temporary file; later ones read there.
 * @module
 */
import { createGunzip } from 'node:zlib'
import type { ByteSource, OpenFile } from './byte-source'
import { sliceSource } from './byte-source'
import type { Capture } from './capture-index'
import { inflateEntry } from './inflated-entry'

/** Members smaller than this are inflated on each read: it takes milliseconds. */
export const SEEK_INFLATE_MIN_BYTES = 1024 * 1024

/** How many inflated members each source keeps open (the least recently read goes first). */
const KEPT_PER_SOURCE = 4

const kept = new WeakMap<ByteSource, Map<number, Promise<OpenFile>>>()

/** The record of `capture` in `source` (a gzip member), inflated into an open file. */
export function inflatedMember(source: ByteSource, capture: Capture): Promise<OpenFile> {
  let files = kept.get(source)
  if (!files) {
    files = new Map()
    kept.set(source, files)
  }
  let file = files.get(capture.offset)
  if (file) {
    files.delete(capture.offset)
  } else {
    const member = sliceSource(source, capture.offset, capture.length, source.name)
    file = inflateEntry(member, source.name, () => undefined, createGunzip)
    // A member that cannot be inflated is tried again next time, not kept.
    file.catch(() => files.delete(capture.offset))
  }
  files.set(capture.offset, file)
  for (const [offset, old] of files) {
    if (files.size <= KEPT_PER_SOURCE) {
      break
    }
    files.delete(offset)
    void old.then((open) => open.close()).catch(() => undefined)
  }
  return file
}

/** Close the inflated members of `sources`. */
export async function closeMembers(sources: readonly { bytes: ByteSource }[]): Promise<void> {
  for (const { bytes } of sources) {
    const files = kept.get(bytes)
    kept.delete(bytes)
    for (const file of files?.values() ?? []) {
      await file.then((open) => open.close()).catch(() => undefined)
    }
  }
}
