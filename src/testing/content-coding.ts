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

/** `bytes` with each of `codings` undone, the last applied first. */
export function decodeContent(bytes: Uint8Array, codings: readonly string[]): Uint8Array {
  let decoded = bytes
  for (const coding of [...codings].reverse()) {
    decoded = undo(decoded, coding)
  }
  return decoded
}

function undo(bytes: Uint8Array, coding: string): Uint8Array {
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(bytes)
    case 'deflate':
      // RFC 9110 says zlib-wrapped; some clients send raw deflate under the same name.
      try {
        return inflateSync(bytes)
      } catch {
        return inflateRawSync(bytes)
      }
    case 'br':
      return brotliDecompressSync(bytes)
    default:
      throw new Error(
        `the request body is ${coding}-encoded, which the test kit cannot decode: read bytes() instead`
      )
  }
}
