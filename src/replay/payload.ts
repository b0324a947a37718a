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
import { Readable } from 'node:stream'
import {
  brotliDecompressSync,
  constants,
  createBrotliDecompress,
  createGunzip,
  createInflate,
} from 'node:zlib'
import type { ReadCapture } from './record-reader'
import { payloadBytes } from './record-reader'

/** Content codings a client can be sent as stored, and how to decode each for one that cannot. */
const DECODERS = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
} as const
type Coding = keyof typeof DECODERS

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
  let coding: Coding | undefined
  if (declared in DECODERS) {
    const peeked = await peek(chunks)
    chunks = peeked.chunks
    coding = stillEncoded(declared as Coding, peeked.head) ? (declared as Coding) : undefined
  }
  if (coding !== undefined && !accepts(acceptEncoding, coding)) {
    return { chunks: decoded(chunks, coding), length: undefined, encoding: undefined }
  }
  const encoding = coding ?? (UNCHECKED_CODINGS.has(declared) ? declared : undefined)
  return { chunks, length: chunked ? undefined : read.payloadLength, encoding }
}

/** Whether the stored bytes carry `coding`, judged by their first bytes where a format has magic. */
function stillEncoded(coding: Coding, head: Uint8Array | undefined): boolean {
  const [a, b] = [head?.[0], head?.[1]]
  if (head === undefined || a === undefined || b === undefined) {
    return false
  }
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return a === 0x1f && b === 0x8b
    case 'deflate':
      // A zlib stream (RFC 1950): method 8, and the header is a multiple of 31.
      return (a & 0x0f) === 8 && ((a << 8) | b) % 31 === 0
    case 'br':
      return decodesAsBrotli(head)
  }
}

/** How much of a body is decoded to tell brotli from bytes that are not, and to what size. */
const BROTLI_PROBE_BYTES = 4096
const BROTLI_PROBE_OUTPUT_BYTES = 1024 * 1024

/**
 * Brotli has no magic number, but a body that is not brotli (HTML, JSON, CSS, JavaScript, an
 * image) fails to decode within its first bytes, where real brotli decodes or only runs out of
 * input. A body that decodes to more than the probe allows is brotli too.
 */
function decodesAsBrotli(head: Uint8Array): boolean {
  try {
    brotliDecompressSync(head.subarray(0, BROTLI_PROBE_BYTES), {
      finishFlush: constants.BROTLI_OPERATION_FLUSH,
      maxOutputLength: BROTLI_PROBE_OUTPUT_BYTES,
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

function decoded(chunks: AsyncIterable<Uint8Array>, coding: Coding): AsyncIterable<Uint8Array> {
  return Readable.from(chunks).pipe(DECODERS[coding]()) as AsyncIterable<Uint8Array>
}
