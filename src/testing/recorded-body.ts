/**
 * A request body as the test kit records it: its first `recordBodyLimit` bytes, read from a copy
 * of what the app is given, or (for a GET or HEAD, whose Fetch `Request` has no body) from Node's
 * request itself. The record tells whether the body came whole.
 * @module
 */
import type { Readable } from 'node:stream'
import { codingsOf, DECODED_BODY_LIMIT, decodeContent } from './content-coding'

/** A request body as recorded: its first `recordBodyLimit` bytes at most. */
export interface RecordedBody {
  /**
   * The bytes recorded, as they were sent (still gzipped, for one sent with
   * `Content-Encoding: gzip`); resolves once the body has ended, been cut at the limit, or failed.
   */
  bytes(): Promise<Uint8Array>
  /**
   * The body as UTF-8, its `Content-Encoding` (`gzip`, `deflate`, `br`) undone, up to 64 MiB
   * decoded (or `recordBodyLimit`, when larger).
   * @throws Error when an encoded body was recorded only in part, its encoding is another, it is
   * not valid in the encoding it names, or it decodes to more than that.
   */
  text(): Promise<string>
  /**
   * The body parsed as JSON, its `Content-Encoding` undone as for `text()`.
   * @throws Error when only part of it was recorded (see `truncated()`), or it is not JSON.
   */
  json(): Promise<unknown>
  /**
   * Whether `bytes()` holds only the start of the body: it went on past `recordBodyLimit`, or
   * the client's connection (or HTTP/2 stream) ended before the body did.
   */
  truncated(): Promise<boolean>
}

/** Why a recording holds only part of the body, if it does. */
type Cut = 'limit' | 'client' | undefined

interface Recording {
  bytes: Uint8Array
  cut: Cut
}

/** Record up to `limit` bytes of the body of `request` (a copy: the app reads its own). */
export function recordRequestBody(request: Request, limit: number): RecordedBody {
  const codings = codingsOf(request.headers.get('content-encoding'))
  return recorded(readUpTo(request.clone().body, limit), limit, codings)
}

/**
 * Record up to `limit` bytes of the body of Node's `incoming` request, which the app is not given:
 * Fetch lets no GET or HEAD carry a body. It is read to its end, as Node would discard it, so the
 * connection goes on as before.
 */
export function recordIncomingBody(
  incoming: Readable,
  limit: number,
  codings: readonly string[]
): RecordedBody {
  const reading = new Promise<Recording>((resolve) => {
    const kept = new Kept(limit)
    incoming.on('data', (chunk: Uint8Array) => {
      kept.add(chunk)
    })
    incoming.once('end', () => {
      resolve(kept.recording(undefined))
    })
    // Without an 'end' first, the client left mid-body (a reset is reported as an error).
    const cut = () => {
      resolve(kept.recording('client'))
    }
    incoming.once('close', cut)
    incoming.once('error', cut)
  })
  return recorded(reading, limit, codings)
}

function recorded(
  reading: Promise<Recording>,
  limit: number,
  codings: readonly string[]
): RecordedBody {
  const bytes = async () => (await reading).bytes
  const text = async () => {
    const { bytes: body, cut } = await reading
    if (codings.length === 0) {
      return new TextDecoder().decode(body)
    }
    if (cut !== undefined) {
      throw new Error(
        `the request body is ${codings.join(', ')}-encoded and was recorded only in part (see truncated()), too little to decode: read bytes() instead`
      )
    }
    return new TextDecoder().decode(
      decodeContent(body, codings, Math.max(limit, DECODED_BODY_LIMIT))
    )
  }
  return {
    bytes,
    text,
    truncated: async () => (await reading).cut !== undefined,
    json: async () => {
      const { bytes: body, cut } = await reading
      if (cut === 'limit') {
        throw new Error(
          `the request body was recorded up to recordBodyLimit (${limit} bytes) only; raise it to read it as JSON`
        )
      }
      if (cut === 'client') {
        throw new Error(
          `the client left before the body ended: ${body.byteLength} bytes came, too few to read as JSON`
        )
      }
      return JSON.parse(await text()) as unknown
    },
  }
}

/** The chunks kept so far, up to `limit` bytes; what goes past it is counted as a cut only. */
class Kept {
  private readonly chunks: Uint8Array[] = []
  private size = 0
  private over = false

  constructor(private readonly limit: number) {}

  /** Keep what fits of `chunk`; returns false once the limit is passed. */
  add(chunk: Uint8Array): boolean {
    if (this.over) {
      return false
    }
    const room = this.limit - this.size
    if (chunk.byteLength > room) {
      this.chunks.push(chunk.subarray(0, room))
      this.size = this.limit
      this.over = true
      return false
    }
    this.chunks.push(chunk)
    this.size += chunk.byteLength
    return true
  }

  /** What was kept, and why it is short: the limit wins, since past it the rest was not kept anyway. */
  recording(cut: Cut): Recording {
    const bytes = new Uint8Array(this.size)
    let at = 0
    for (const chunk of this.chunks) {
      bytes.set(chunk, at)
      at += chunk.byteLength
    }
    return { bytes, cut: this.over ? 'limit' : cut }
  }
}

async function readUpTo(
  stream: ReadableStream<Uint8Array> | null,
  limit: number
): Promise<Recording> {
  const kept = new Kept(limit)
  const reader = stream?.getReader()
  try {
    for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) {
      if (!kept.add(chunk.value)) {
        // The app's branch of the body goes on; only this copy stops here.
        await reader?.cancel()
        break
      }
    }
  } catch {
    // The client left mid-body: what came is all there is.
    return kept.recording('client')
  }
  return kept.recording(undefined)
}
