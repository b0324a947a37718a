/**
 * Reading a WARC record's content to its end, keeping a request's body (up to
 * {@link BODY_MATCH_MAX_BYTES}) for its key; and finding the request record a crawler wrote
 * right after a response, for an index that does not give the body.
 * @module
 */
import { AsyncIterReader, WARCParser } from 'warcio'
import type { WARCRecord } from 'warcio'
import type { BodyKey } from './body-key'
import { BODY_MATCH_MAX_BYTES, bodyKey, methodBodyKey } from './body-key'
import type { WarcSource } from './record-reader'

/** What reading a record's content found. */
export interface Consumed {
  /** `false` when the data ends before the record's Content-Length. */
  whole: boolean
  /** The key of the body, when it was asked for and is within the limit. */
  body: BodyKey | undefined
}

/**
 * Read past `record`'s content, keeping it for a body key (with its method's, see
 * {@link methodBodyKey}) when `keepBody` is set.
 */
export async function consume(record: WARCRecord, keepBody = false): Promise<Consumed> {
  const reader = record.reader as AsyncIterable<Uint8Array> & { limit?: number }
  const kept: Uint8Array[] = []
  let size = 0
  for await (const chunk of reader) {
    size += chunk.length
    if (keepBody && size <= BODY_MATCH_MAX_BYTES) {
      // warcio may reuse the buffer under a chunk once the next is read.
      kept.push(chunk.slice())
    }
  }
  // warcio's skipFully() would spin on a record cut short; marking it consumed skips that.
  record.consumed = 'skipped'
  const whole = !(typeof reader.limit === 'number' && reader.limit > 0)
  const type = record.httpHeaders?.headers.get('content-type') ?? null
  const body =
    keepBody && whole && size <= BODY_MATCH_MAX_BYTES
      ? methodBodyKey(await bodyKey(Buffer.concat(kept), type), record.httpHeaders?.method ?? 'GET')
      : undefined
  return { whole, body }
}

/** How far past a request's body limit its record (headers, gzip framing) is read at most. */
const RECORD_SLACK_BYTES = 64 * 1024

/**
 * The key of the body of the request for `url` written right after the record at `offset` (as
 * warcio, pywb and Browsertrix write it); `null` when the record there is no such request.
 */
export async function bodyOfRequestAt(
  source: WarcSource,
  offset: number,
  url: string
): Promise<BodyKey | undefined | null> {
  const end = Math.min(source.bytes.size, offset + BODY_MATCH_MAX_BYTES + RECORD_SLACK_BYTES)
  const bytes = source.bytes.read(offset, end)
  try {
    const parser = new WARCParser(new AsyncIterReader(bytes, source.gzip ? 'gzip' : null))
    const record = await parser.parse()
    if (record?.warcType !== 'request' || record.warcTargetURI !== url) {
      return null
    }
    return (await consume(record, true)).body
  } catch {
    return null
  } finally {
    // Stop reading the archive (a deflated WACZ entry is a zip stream to close).
    await bytes.return(undefined)
  }
}
