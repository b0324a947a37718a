/**
 * A recorded request body as its sender meant it: undone from the `Content-Encoding` it was sent
 * with (RFC 9110 §8.4), as mockttp's `getText()` and `getJson()` give it, so that an SDK that
 * gzips its uploads (telemetry exporters do) can be asserted on with `json()`.
 * @module
 */
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib'

/** The codings a `Content-Encoding` value names, in the order they were applied. */
export function codingsOf(contentEncoding: string | null | undefined): string[] {
  return (contentEncoding ?? '')
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity')
}

/**
 * The most bytes a body decodes to for `text()` and `json()`, unless `recordBodyLimit` is larger:
 * a 2 KB upload sent `gzip, gzip` inflated to 1 GiB in the test process before it was bounded.
 */
export const DECODED_BODY_LIMIT = 64 * 1024 * 1024

/**
 * `bytes` with each of `codings` undone, the last applied first, up to `maxBytes` decoded.
 * @throws Error when a coding is unknown, the bytes are not so encoded, or decode past `maxBytes`
 */
export function decodeContent(
  bytes: Uint8Array,
  codings: readonly string[],
  maxBytes: number
): Uint8Array {
  let decoded = bytes
  for (const coding of [...codings].reverse()) {
    const decode = DECODERS.get(coding)
    if (!decode) {
      throw new Error(
        `the request body is ${coding}-encoded, which the test kit cannot decode: read bytes() instead`
      )
    }
    try {
      decoded = decode(decoded, { maxOutputLength: maxBytes })
    } catch (error) {
      throw new Error(
        (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
          ? `the request body decodes to more than ${maxBytes} bytes, past what text() and json() decode: read bytes() instead`
          : `the request body is not valid ${coding} (${(error as Error).message}): read bytes() instead`,
        { cause: error }
      )
    }
  }
  return decoded
}

/** How far a decoder may go. */
interface Bound {
  maxOutputLength: number
}

/** The decoders of the codings known, by name. */
const DECODERS = new Map<string, (bytes: Uint8Array, bound: Bound) => Uint8Array>([
  ['gzip', gunzipSync],
  ['x-gzip', gunzipSync],
  ['deflate', inflateEither],
  ['br', brotliDecompressSync],
])

/** Zlib-wrapped deflate as RFC 9110 says, or raw deflate, which some clients send so named. */
function inflateEither(bytes: Uint8Array, bound: Bound): Uint8Array {
  try {
    return inflateSync(bytes, bound)
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw error
    }
    return inflateRawSync(bytes, bound)
  }
}
