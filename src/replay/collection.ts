/**
 * A collection: one archive file (a WARC or a WACZ), indexed once when it is opened, and the
 * lookup of a URL at a time in it.
 * @module
 */
import { basename } from 'node:path'
import { LruCache } from '../util/lru-cache'
import type { BodyKey } from './body-key'
import { openFile } from './byte-source'
import type { Capture, CaptureIndex, MethodClass } from './capture-index'
import { RecordKind } from './capture-index'
import { emptyParts } from './collection-parts'
import { closeMembers } from './inflated-members'
import { captureTime, closest } from './memento'
import type { Page } from './pages'
import type { ReadCapture, WarcSource } from './record-reader'
import { readCapture } from './record-reader'
import { openWacz } from './wacz'
import { indexWarc, warcFormat } from './warc-indexer'

/** Lookups kept per collection: a URL and a list of captures each (a few hundred KB at most). */
const LOOKUPS_KEPT = 4096

/** Archive files a folder contributes, and the part of their name a collection drops. */
export const ARCHIVE_NAME = /\.(warc|warc\.gz|wacz)$/i

/** One archive, ready to replay. */
export interface Collection {
  /** The name a proxy user picks it by: the file name without its extension. */
  readonly name: string
  readonly path: string
  readonly index: CaptureIndex
  /** The pages to list, sorted by URL. */
  readonly pages: readonly Page[]
  /**
   * The captures of `url` for `method`, oldest first; given the key of a request `body`, those
   * whose request had it when there are any.
   */
  lookup(url: string, method: MethodClass, body?: BodyKey): readonly Capture[]
  /**
   * Read a capture, following a revisit record to the record that holds its payload; what the
   * replay app answers with (its shape may change between versions).
   * @internal
   */
  read(capture: Capture): Promise<{ read: ReadCapture; payload: ReadCapture }>
  close(): Promise<void>
}

/** The collection name for the archive at `path`. */
export function collectionName(path: string): string {
  return (
    basename(path)
      .replace(ARCHIVE_NAME, '')
      .replace(/[^A-Za-z0-9._-]/g, '-') || 'archive'
  )
}

/** Open and index the archive at `path`; `warn` gets one line per problem found in it. */
export async function openCollection(
  path: string,
  warn: (line: string) => void,
  name = collectionName(path)
): Promise<Collection> {
  const parts = emptyParts()
  try {
    if (/\.wacz$/i.test(path)) {
      await openWacz(path, parts, warn)
    } else {
      const file = await openFile(path)
      parts.closers.push(() => file.close())
      const format = await warcFormat(file)
      if (!format) {
        throw new Error(
          `${path}: not a WARC or WACZ file (it starts with neither WARC/1. nor a gzip or zip header)`
        )
      }
      parts.sources.push({ bytes: file, gzip: format === 'gzip' })
      await indexWarc(file, { sourceId: 0, builder: parts.builder, pages: parts.pages, warn })
    }
  } catch (error) {
    await Promise.allSettled(parts.closers.map((close) => close()))
    throw error
  }
  const index = parts.builder.build()
  const { sources, closers } = parts
  closers.push(() => closeMembers(sources))
  const pages = parts.pages.list()
  // A site's pages ask for the same stylesheets, scripts and images again and again: the
  // answer for a URL (none included) is kept, since an archive never changes.
  const looked = new LruCache<string, readonly Capture[]>(LOOKUPS_KEPT)
  const lookup = (url: string, method: MethodClass, body?: BodyKey): readonly Capture[] => {
    const key = body ? `${method} ${body[0]}:${body[1]} ${url}` : `${method} ${url}`
    let found = looked.get(key)
    if (found === undefined) {
      found = Object.freeze(index.lookup(url, method, body))
      looked.set(key, found)
    }
    return found
  }
  return {
    name,
    path,
    index,
    pages,
    lookup,
    async read(capture) {
      const read = await readCapture(sourceOf(sources, capture), capture)
      if (capture.kind !== RecordKind.revisit) {
        return { read, payload: read }
      }
      return { read, payload: await original(read, capture, sources, lookup) }
    },
    async close() {
      await Promise.allSettled(closers.map((close) => close()))
    },
  }
}

function sourceOf(sources: WarcSource[], capture: Capture): WarcSource {
  const source = sources[capture.source]
  if (!source) {
    throw new Error(`no WARC source ${capture.source}`)
  }
  return source
}

/** How many earlier captures a revisit's payload is looked for in. */
const REVISIT_CANDIDATES = 8

/**
 * The record a revisit refers to: a capture of `WARC-Refers-To-Target-URI` (or its own URL) at
 * `WARC-Refers-To-Date` (or the closest to it), whose payload digest matches the revisit's.
 */
async function original(
  revisit: ReadCapture,
  capture: Capture,
  sources: WarcSource[],
  lookup: (url: string, method: MethodClass) => readonly Capture[]
): Promise<ReadCapture> {
  const record = revisit.record
  const url = record.warcRefersToTargetURI ?? record.warcTargetURI ?? ''
  const when = captureTime(record.warcRefersToDate) || capture.time
  const digest = record.warcPayloadDigest
  const candidates = lookup(url, capture.method).filter((c) => c.kind !== RecordKind.revisit)
  for (let tries = 0; tries < REVISIT_CANDIDATES; tries++) {
    const best = closest(candidates, when)
    if (!best) {
      break
    }
    candidates.splice(candidates.indexOf(best), 1)
    const read = await readCapture(sourceOf(sources, best), best)
    const theirs = read.record.warcPayloadDigest
    if (!digest || !theirs || theirs === digest) {
      return read
    }
  }
  throw new Error(
    `the revisit of ${record.warcTargetURI ?? url} refers to a capture not in the archive`
  )
}
