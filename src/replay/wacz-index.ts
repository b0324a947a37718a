/**
 * A WACZ's own CDXJ index, trusted only once it is seen to describe the WARCs beside it: an
 * index that lists none of their captures (a CDX of another format, WARC names that are not in
 * the zip), or whose first or last capture is not at the offset it gives, is one to do without.
 * A capture of a POST (or another method with a body) whose line does not give the request body
 * (an older indexer's, or one cut short at 4,096 characters) takes it from the request record
 * written after it; when there is none there, the index is done without too.
 * @module
 */
import type { Readable } from 'node:stream'
import { urlKeys } from './canonical'
import type { CaptureEntry } from './capture-index'
import { MethodClass } from './capture-index'
import { readCdxj } from './cdxj'
import type { CdxjTarget } from './cdxj'
import { readCapture } from './record-reader'
import type { WarcSource } from './record-reader'
import { bodyOfRequestAt } from './request-record'

/** One index file of the WACZ: its name in warnings, and how to read its lines. */
export interface IndexFile {
  name: string
  open: () => Promise<Readable>
}

/**
 * Read `files` into `target`; resolves with why they cannot be used (then the WARCs are to be
 * indexed instead), or `undefined` when they can.
 */
export async function readWaczIndex(
  files: IndexFile[],
  sources: readonly WarcSource[],
  target: CdxjTarget
): Promise<string | undefined> {
  let first: CaptureEntry | undefined
  let last: CaptureEntry | undefined
  const withoutBody: CaptureEntry[] = []
  const builder = target.builder
  const sampled: CdxjTarget = {
    ...target,
    builder: {
      add(entry) {
        first ??= entry
        last = entry
        if (entry.method === MethodClass.other && !entry.body) {
          withoutBody.push(entry)
        } else {
          builder.add(entry)
        }
      },
    },
  }
  try {
    for (const file of files) {
      await readCdxj(await file.open(), file.name, sampled)
    }
  } catch (error) {
    return `its CDXJ index cannot be read (${error instanceof Error ? error.message : String(error)})`
  }
  if (!first || !last) {
    return sources.length > 0 ? 'its CDXJ index lists no capture in its WARCs' : undefined
  }
  for (const entry of first === last ? [first] : [first, last]) {
    const found = await recordAt(sources, entry)
    if (found !== undefined) {
      return `its CDXJ index does not match its WARCs: ${found}`
    }
  }
  for (const entry of withoutBody) {
    const source = sources[entry.source]
    const body = source
      ? await bodyOfRequestAt(source, entry.offset + entry.length, entry.url)
      : null
    if (body === null) {
      return `its CDXJ index does not give the request body of the ${entry.url} capture at offset ${entry.offset}, nor is its request record after it`
    }
    builder.add({ ...entry, body })
  }
  return undefined
}

/** What is wrong with the record `entry` points to, or `undefined` when it is the capture. */
async function recordAt(
  sources: readonly WarcSource[],
  entry: CaptureEntry
): Promise<string | undefined> {
  const at = `offset ${entry.offset} of WARC ${entry.source + 1}`
  const source = sources[entry.source]
  if (!source) {
    return `${at}: no such WARC`
  }
  try {
    const { record } = await readCapture(source, entry)
    const url = record.warcTargetURI ?? ''
    return urlKeys(url).exact === urlKeys(entry.url).exact
      ? undefined
      : `${at} holds ${url || 'no URL'}, not ${entry.url}`
  } catch (error) {
    return `${at} holds no record of ${entry.url} (${error instanceof Error ? error.message : String(error)})`
  }
}
