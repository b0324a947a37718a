/**
 * Large payloads sent transformed (stored with a `Content-Encoding` and decoded for a client
 * that does not accept it, or stored chunked), kept decoded for range requests. Each range was
 * answered by decoding the payload whole to learn its length, then again up to the range: 0.9 s
 * before the first byte near the end of a 50 MB payload in a `.warc`, 1.9 s in a `.warc.gz`. The
 * first range request now decodes it once into a temporary file, and later ones read there.
 * @module
 */
import { spoolFile } from './inflated-entry'
import type { KeptFile } from './inflated-members'
import { keptFile, SEEK_INFLATE_MIN_BYTES } from './inflated-members'
import type { Body } from './payload'
import type { ReadCapture } from './record-reader'

/**
 * A payload that decodes to more than this is decoded again for each range: at most four such
 * files are kept per WARC, so they take at most 1 GiB of disk for each.
 */
export const DECODED_MAX_BYTES = 256 * 1024 * 1024

/**
 * The payload of `payload` as sent with `encoding` (`undefined`: decoded), in a file kept for
 * later ranges; `decode` gives its bytes so, the first time. `undefined` when the stored payload
 * is small (decoding it again takes milliseconds) or decodes to more than `DECODED_MAX_BYTES`.
 * The caller holds the file until its first read ends, or it calls `release()`.
 */
export async function decodedBody(
  payload: ReadCapture,
  encoding: string | undefined,
  decode: () => Promise<Body>
): Promise<KeptFile | undefined> {
  if (payload.payloadLength < SEEK_INFLATE_MIN_BYTES) {
    return undefined
  }
  const { bytes } = payload.source
  const key = `decoded ${payload.capture.offset} ${encoding ?? ''}`
  return keptFile(bytes, key, async () =>
    spoolFile((await decode()).chunks, bytes.name, DECODED_MAX_BYTES)
  )
}
