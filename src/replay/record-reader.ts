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

/** Small captures are read with one positioned read; larger ones stream in chunks of this. */
const SERVE_CHUNK_BYTES = 256 * 1024

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
  const payload = record.reader as { limit?: number }
  const payloadLength = typeof payload.limit === 'number' ? payload.limit : record.warcContentLength
  return {
    record,
    source,
    capture,
    payloadLength,
    // What the parser consumed so far is the WARC and HTTP headers: the payload comes next.
    payloadStart: source.gzip ? undefined : capture.offset + reader.getReadOffset(),
  }
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
  for await (const chunk of raw) {
    yield gunzipSync(chunk)
  }
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
  const whole = read.record.reader as AsyncIterable<Uint8Array>
  return from === 0 && to >= read.payloadLength ? whole : slice(whole, from, to)
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
