/**
 * What the kit's apps saw of each request: its headers and (up to a bound) its body, kept for the
 * request's record, as mockttp's seen requests keep them. The body is read from a clone, so the
 * app reads its own as before.
 * @module
 */
import { OptionsError } from '../errors'
import type { RequestRecord } from '../log/records'
import { requestOfRecord } from '../log/watch'

/** The bytes recorded of each request body when `recordBodyLimit` is not given: 1 MiB. */
export const RECORD_BODY_LIMIT = 1024 * 1024

/** A request body as recorded: its first `recordBodyLimit` bytes at most. */
export interface RecordedBody {
  /** The bytes recorded; resolves once the body has ended, been cut at the limit, or failed. */
  bytes(): Promise<Uint8Array>
  /** The bytes recorded, as UTF-8. */
  text(): Promise<string>
  /** The body parsed as JSON. @throws Error when it was cut at the limit, or is not JSON. */
  json(): Promise<unknown>
  /** Whether the body went on past `recordBodyLimit`: `bytes()` has only its start. */
  truncated(): Promise<boolean>
}

/** A request record of the test kit: the `onLog` record, and what the app saw. */
export interface TestRequestRecord extends RequestRecord {
  /**
   * The request headers as the first of the kit's apps saw them (no `Proxy-Authorization`);
   * `undefined` when no app saw the request (the proxy answered it itself).
   */
  headers: Headers | undefined
  /**
   * The request body; `undefined` without one, for a `GET` or `HEAD`, with `recordBodyLimit: 0`,
   * or when no app saw it.
   */
  body: RecordedBody | undefined
}

interface Seen {
  /** Node's raw headers of the request the app was given: made a `Headers` only when read. */
  rawHeaders: readonly string[]
  body: RecordedBody | undefined
}

/** Keyed by the request node-server was given (its env's `incoming`), as records are. */
const seenRequests = new WeakMap<object, Seen>()

/** Check the `recordBodyLimit` option. */
export function bodyLimitOption(limit: unknown): number {
  const value = limit ?? RECORD_BODY_LIMIT
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new OptionsError(
      `recordBodyLimit must be a whole number of bytes (0: no bodies), got ${String(limit)}`
    )
  }
  return value
}

/**
 * Keep what an app is about to see of `request`; a request seen before (a fall-through) is kept
 * once. Returns whether its body is being recorded.
 */
export function see(request: Request, env: unknown, bodyLimit: number): boolean {
  const incoming = (env as { incoming?: object } | undefined)?.incoming
  const seen = incoming && seenRequests.get(incoming)
  if (!incoming || seen) {
    return seen?.body !== undefined
  }
  // node-server makes a full Request only when its body (or the like) is read: a GET's is not.
  const bodiless = bodyLimit === 0 || request.method === 'GET' || request.method === 'HEAD'
  const body = bodiless || request.body === null ? undefined : recordBody(request, bodyLimit)
  const { rawHeaders } = incoming as { rawHeaders?: string[] }
  seenRequests.set(incoming, { rawHeaders: rawHeaders ?? [], body })
  return body !== undefined
}

/** `record` with what the app saw of its request. */
export function withSeen(record: RequestRecord): TestRequestRecord {
  const incoming = requestOfRecord(record)
  const seen = incoming && seenRequests.get(incoming)
  if (!seen) {
    return { ...record, headers: undefined, body: undefined }
  }
  let headers: Headers | undefined
  return {
    ...record,
    // Made when read: a test reads few records' headers, and the copy would cost every request.
    get headers() {
      return (headers ??= toHeaders(seen.rawHeaders))
    },
    body: seen.body,
  }
}

/** The headers node-server gives the app of Node's raw ones: HTTP/2's pseudo-headers left out. */
function toHeaders(raw: readonly string[]): Headers {
  const headers = new Headers()
  for (let at = 0; at + 1 < raw.length; at += 2) {
    const name = raw[at] ?? ''
    if (!name.startsWith(':')) {
      try {
        headers.append(name, raw[at + 1] ?? '')
      } catch {
        // A value Fetch refuses: node-server leaves it out of the app's headers too.
      }
    }
  }
  return headers
}

/** Read a clone of `request`'s body up to `limit` bytes, and then let it go. */
function recordBody(request: Request, limit: number): RecordedBody {
  const read = readUpTo(request.clone().body, limit)
  const bytes = async () => (await read).bytes
  return {
    bytes,
    text: async () => new TextDecoder().decode(await bytes()),
    truncated: async () => (await read).truncated,
    json: async () => {
      const { bytes: recorded, truncated } = await read
      if (truncated) {
        throw new Error(
          `the request body was recorded up to recordBodyLimit (${limit} bytes) only; raise it to read it as JSON`
        )
      }
      return JSON.parse(new TextDecoder().decode(recorded)) as unknown
    },
  }
}

async function readUpTo(
  stream: ReadableStream<Uint8Array> | null,
  limit: number
): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  const chunks: Uint8Array[] = []
  let size = 0
  let truncated = false
  const reader = stream?.getReader()
  try {
    for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) {
      const room = limit - size
      if (chunk.value.byteLength > room) {
        chunks.push(chunk.value.subarray(0, room))
        size = limit
        truncated = true
        // The app's branch of the body goes on; only this copy stops here.
        await reader?.cancel()
        break
      }
      chunks.push(chunk.value)
      size += chunk.value.byteLength
    }
  } catch {
    // The client left mid-body: what came is what was sent.
  }
  const bytes = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    bytes.set(chunk, at)
    at += chunk.byteLength
  }
  return { bytes, truncated }
}
