/**
 * The body sent for a capture, made consistent with its headers: a payload stored with
 * `Transfer-Encoding: chunked` is dechunked (warcio's dechunker); a `Content-Encoding` is kept
 * only when the stored bytes are still encoded (gzip and deflate are checked by their magic
 * bytes, brotli by decoding the first bytes; a crawler that stored the decoded body often left
 * the header), and a still-encoded body is decoded for a client that does not list the coding
 * in `Accept-Encoding`.
 * @module
 */
import { AsyncIterReader } from 'warcio'
import { Readable, pipeline } from 'node:stream'
import {
  brotliDecompressSync,
  constants,
  createBrotliDecompress,
  createGunzip,
  createInflate,
  createInflateRaw,
  inflateRawSync,
} from 'node:zlib'
import type { ReadCapture } from './record-reader'
import { payloadBytes } from './record-reader'

/**
 * How each stored coding is decoded for a client that cannot take it: the content codings a
 * capture may declare, and `raw-deflate`, a deflate stream without its zlib wrapper, which some
 * servers sent as `deflate` and browsers accept as such.
 */
const DECODERS = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  'raw-deflate': createInflateRaw,
  br: createBrotliDecompress,
} as const
type Stored = keyof typeof DECODERS
type Coding = Exclude<Stored, 'raw-deflate'>
const CODINGS: ReadonlySet<string> = new Set<Coding>(['gzip', 'x-gzip', 'deflate', 'br'])

/** Codings Node cannot decode here: sent as stored, with their header. */
const UNCHECKED_CODINGS: ReadonlySet<string> = new Set(['zstd', 'compress', 'x-compress'])

/** A body to send. */
export interface Body {
  /** The body's bytes; read once. */
  chunks: AsyncIterable<Uint8Array>
  /** Its length when known without reading it: the stored payload, sent unchanged. */
  length: number | undefined
  /** The `Content-Encoding` to send, when the body is still encoded. */
  encoding: string | undefined
}

/** The body for `read`, given its stored headers (those of the record that holds the payload). */
export async function bodyOf(
  read: ReadCapture,
  stored: Headers,
  acceptEncoding: string | null
): Promise<Body> {
  const chunked = /\bchunked\b/i.test(stored.get('transfer-encoding') ?? '')
  const declared = (stored.get('content-encoding') ?? '').trim().toLowerCase()
  let chunks: AsyncIterable<Uint8Array> = payloadBytes(read)
  if (chunked) {
    chunks = new AsyncIterReader(chunks, null, true)
  }
  let found: Stored | undefined
  if (CODINGS.has(declared)) {
    const peeked = await peek(chunks)
    chunks = peeked.chunks
    const whole = !chunked && peeked.head?.length === read.payloadLength
    found = storedAs(declared as Coding, peeked.head, whole)
  }
  const coding = found === 'raw-deflate' ? 'deflate' : found
  if (found !== undefined && coding !== undefined && !accepts(acceptEncoding, coding)) {
    return { chunks: decoded(chunks, found), length: undefined, encoding: undefined }
  }
  const encoding = coding ?? (UNCHECKED_CODINGS.has(declared) ? declared : undefined)
  return { chunks, length: chunked ? undefined : read.payloadLength, encoding }
}

/**
 * How the stored bytes carry `coding`, or `undefined` when they do not: judged by their first
 * bytes where a format has magic, and else by decoding them (`whole` when they are the body).
 */
function storedAs(
  coding: Coding,
  head: Uint8Array | undefined,
  whole: boolean
): Stored | undefined {
  const [a, b] = [head?.[0], head?.[1]]
  if (head === undefined || a === undefined || b === undefined) {
    return undefined
  }
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return a === 0x1f && b === 0x8b ? coding : undefined
    case 'deflate':
      // A zlib stream (RFC 1950): method 8, and the header is a multiple of 31.
      if ((a & 0x0f) === 8 && ((a << 8) | b) % 31 === 0) {
        return coding
      }
      return decodes(inflateRawSync, head, whole, constants.Z_SYNC_FLUSH)
        ? 'raw-deflate'
        : undefined
    case 'br':
      return decodes(brotliDecompressSync, head, whole, constants.BROTLI_OPERATION_FLUSH)
        ? coding
        : undefined
  }
}

/** How much of a body is decoded to tell an encoded one from bytes that are not, and to what size. */
const PROBE_BYTES = 4096
const PROBE_OUTPUT_BYTES = 1024 * 1024

/**
 * Brotli and raw deflate have no magic number, but a body that is not encoded (HTML, JSON, CSS,
 * JavaScript, an image) fails to decode within its first bytes, where an encoded one decodes or
 * only runs out of input (which counts only when `head` is not the whole body). A body that
 * decodes to more than the probe allows is encoded too.
 */
function decodes(
  decompress: typeof inflateRawSync,
  head: Uint8Array,
  whole: boolean,
  flush: number
): boolean {
  try {
    decompress(whole ? head : head.subarray(0, PROBE_BYTES), {
      ...(whole ? {} : { finishFlush: flush }),
      maxOutputLength: PROBE_OUTPUT_BYTES,
    })
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
  }
}

/** Whether `Accept-Encoding` lists `coding` (or `*`) with a non-zero weight. */
export function accepts(header: string | null, coding: string): boolean {
  const wanted = coding === 'x-gzip' ? 'gzip' : coding
  return (header ?? '').split(',').some((item) => {
    const [name = '', ...params] = item.trim().toLowerCase().split(';')
    const q = params.map((p) => /^\s*q\s*=\s*([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean)
    return (
      (name === wanted || name === '*' || (wanted === 'gzip' && name === 'x-gzip')) &&
      q !== '0' &&
      Number(q ?? 1) > 0
    )
  })
}

async function peek(
  chunks: AsyncIterable<Uint8Array>
): Promise<{ head: Uint8Array | undefined; chunks: AsyncIterable<Uint8Array> }> {
  const iterator = chunks[Symbol.asyncIterator]()
  const first = await iterator.next()
  const head = first.done ? undefined : first.value
  async function* rest(): AsyncGenerator<Uint8Array> {
    if (head) {
      yield head
    }
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      yield next.value
    }
  }
  return { head, chunks: rest() }
}

/**
 * `chunks` decoded. A pipeline, not `pipe()`: a read of the archive that fails (the file closed
 * under a body left unread) reaches whoever reads the decoded bytes, or no one, instead of being
 * thrown at the process; and a decoded body left unread stops reading the archive.
 */
function decoded(chunks: AsyncIterable<Uint8Array>, coding: Stored): AsyncIterable<Uint8Array> {
  return pipeline(Readable.from(chunks), DECODERS[coding](), () => undefined)
}
