/**
 * Read one capture back from its WARC with warcio: the record's headers, and where its payload
 * is, so a range of a large uncompressed payload is read straight from the file.
 * @module
 */
import { AsyncIterReader, WARCParser } from 'warcio'
import type { WARCRecord } from 'warcio'
import { Readable, pipeline } from 'node:stream'
import { createGunzip, gunzipSync } from 'node:zlib'
import type { ByteSource } from './byte-source'
import type { Capture } from './capture-index'
import { inflatedMember, SEEK_INFLATE_MIN_BYTES } from './inflated-members'

/** Small captures are read with one positioned read; larger ones stream in chunks of this. */
const SERVE_CHUNK_BYTES = 256 * 1024

/**
 * Where the gzip member of a small capture is read, to be inflated at once: serving allocates no
 * buffer for compressed bytes. Used only synchronously (read, then inflate, with no await between),
 * so requests served side by side never share it.
 */
const memberBuffer = Buffer.allocUnsafe(SERVE_CHUNK_BYTES)

/** The most an inflated member's output buffer is sized up front, whatever its trailer says. */
const INFLATE_BUFFER_MAX_BYTES = 4 * 1024 * 1024

/** A WARC source of a collection, and whether its records are gzip members. */
export interface WarcSource {
  bytes: ByteSource
  gzip: boolean
}

/** A capture, read. */
export interface ReadCapture {
  record: WARCRecord
  source: WarcSource
  capture: Capture
  /** The stored payload's length: the record's content after its HTTP headers. */
  payloadLength: number
  /** Where the payload starts in the source, when the record is not compressed. */
  payloadStart: number | undefined
  /** Where the payload starts in the record (after its WARC and HTTP headers). */
  headerLength: number
}

/** Read the record of `capture` from `source`; rejects when it is not a record any more. */
export async function readCapture(source: WarcSource, capture: Capture): Promise<ReadCapture> {
  const end = capture.offset + capture.length
  const reader = new AsyncIterReader(recordBytes(source, capture.offset, end), null)
  const parser = new WARCParser(reader)
  const record = await parser.parse()
  if (!record) {
    throw new Error(`${source.bytes.name}: no WARC record at offset ${capture.offset}`)
  }
  if (!hasLength(record)) {
    throw new Error(
      `${source.bytes.name}: the record at offset ${capture.offset} has no valid Content-Length`
    )
  }
  const payload = record.reader as { limit?: number }
  const payloadLength = typeof payload.limit === 'number' ? payload.limit : record.warcContentLength
  return {
    record,
    source,
    capture,
    payloadLength,
    // What the parser consumed so far is the WARC and HTTP headers: the payload comes next.
    payloadStart: source.gzip ? undefined : capture.offset + reader.getReadOffset(),
    headerLength: reader.getReadOffset(),
  }
}

/**
 * Whether a record has a `Content-Length` that is a length. Read from the header itself: warcio's
 * `warcContentLength` is `Number()` of it, 0 for a record whose headers were cut before it.
 */
export function hasLength(record: WARCRecord): boolean {
  const value = record.warcHeaders.headers.get('Content-Length')
  return typeof value === 'string' && /^\d{1,15}$/.test(value.trim())
}

/**
 * The bytes of the record from `offset` to `end`, inflated when it is a gzip member, by Node's
 * zlib: several times faster than the JavaScript inflater warcio uses, which indexing needs to
 * find where members end, but serving one known member does not.
 */
async function* recordBytes(
  source: WarcSource,
  offset: number,
  end: number
): AsyncGenerator<Uint8Array> {
  const { readNow } = source.bytes
  if (source.gzip && readNow && end - offset <= SERVE_CHUNK_BYTES) {
    const member = readNow(offset, end, memberBuffer)
    if (member.length > 0) {
      yield inflateMember(member)
    }
    return
  }
  const raw = source.bytes.read(offset, end, SERVE_CHUNK_BYTES)
  if (!source.gzip) {
    yield* raw
    return
  }
  if (end - offset > SERVE_CHUNK_BYTES) {
    yield* pipeline(
      Readable.from(raw),
      createGunzip(),
      () => undefined
    ) as AsyncIterable<Uint8Array>
    return
  }
  // A file gives the member in one chunk; a WARC deflated in a WACZ in the zip stream's chunks.
  const chunks: Uint8Array[] = []
  for await (const chunk of raw) {
    chunks.push(chunk)
  }
  yield gunzipSync(chunks.length === 1 ? (chunks[0] ?? EMPTY) : Buffer.concat(chunks))
}

const EMPTY = new Uint8Array()

/**
 * Inflate one gzip member into one buffer sized by the member's trailer (ISIZE, the inflated
 * length: RFC 1952 §2.3.1), so that zlib writes it whole rather than in 16 KiB chunks joined by
 * a copy. A wrong trailer only costs a second chunk, or fails as any corrupt member does.
 */
function inflateMember(member: Buffer): Buffer {
  const inflated = member.length >= 18 ? member.readUInt32LE(member.length - 4) : 0
  // One byte more than the output: zlib stops with room left, not with a full buffer to retry.
  const chunkSize = Math.min(Math.max(inflated + 1, 1024), INFLATE_BUFFER_MAX_BYTES)
  return gunzipSync(member, { chunkSize })
}

/** The stored payload from byte `from` (inclusive) to `to` (exclusive) of it. */
export function payloadBytes(
  read: ReadCapture,
  from = 0,
  to = read.payloadLength
): AsyncIterable<Uint8Array> {
  if (read.payloadStart !== undefined && from > 0) {
    return read.source.bytes.read(
      read.payloadStart + from,
      read.payloadStart + to,
      SERVE_CHUNK_BYTES
    )
  }
  if (seeksInMember(read) && from > 0) {
    return fromMember(read, read.headerLength + from, read.headerLength + to)
  }
  const whole = read.record.reader as AsyncIterable<Uint8Array>
  return from === 0 && to >= read.payloadLength ? whole : slice(whole, from, to)
}

/** Whether a range of the payload of `read` is read from its gzip member inflated once. */
export function seeksInMember(read: ReadCapture): boolean {
  return read.source.gzip && read.capture.length >= SEEK_INFLATE_MIN_BYTES
}

async function* fromMember(read: ReadCapture, from: number, to: number) {
  const file = await inflatedMember(read.source.bytes, read.capture)
  yield* file.read(from, to, SERVE_CHUNK_BYTES)
}

/** Bytes `from` to `to` (exclusive) of a stream of chunks. */
export async function* slice(
  chunks: AsyncIterable<Uint8Array>,
  from: number,
  to: number
): AsyncGenerator<Uint8Array> {
  let position = 0
  for await (const chunk of chunks) {
    const next = position + chunk.length
    if (next > from) {
      yield chunk.subarray(Math.max(0, from - position), Math.min(chunk.length, to - position))
    }
    position = next
    if (position >= to) {
      return
    }
  }
}
