/**
 * Responses for HTTP/1.0 clients, which have no chunked encoding: a body that ends soon is sent
 * with a Content-Length, anything longer streams and the closing of the connection ends it
 * (RFC 9112 §6.3). Memory stays bounded either way.
 *
 * Only the framing is done here. The status and headers stay as the app gave them, unread and
 * unconverted (response-parts.ts), so that the response guard checks them at `writeHead` as it
 * does for HTTP/1.1 and 2: the same app Response gets the same answer over every version.
 * @module
 */
import type { ServerResponse } from 'node:http'
import { readOn } from './read-on'
import { cachedParts } from './response-parts'

/**
 * How much of a body without a length is held to give it a Content-Length. Past this, the rest
 * streams as it comes, as it does for HTTP/1.1 clients.
 */
export const HTTP10_BUFFER_BYTES = 64 * 1024

/**
 * `response` as an HTTP/1.0 client should get it. A streamed body without a Content-Length that
 * ends within {@link HTTP10_BUFFER_BYTES} becomes bytes, which node-server sends with their
 * length. While the head of the body is read, a client that leaves (`outgoing` closes) cancels
 * the app's stream; later, node-server does. A body that fails while it is held gets `failed`'s
 * answer: no byte of the response has gone out.
 */
export async function forHttp10(
  response: Response,
  outgoing: ServerResponse | undefined,
  failed: (error: unknown) => Response
): Promise<Response> {
  // A Response of the platform's own has checked its parts already; reading them costs nothing.
  const [status, body, headers] = cachedParts(response) ?? [
    response.status,
    response.body,
    response.headers,
  ]
  if (!(body instanceof ReadableStream) || hasLength(headers)) {
    return response
  }
  const reader = (body as ReadableStream<unknown>).getReader()
  const cancel = () => {
    reader.cancel().catch(() => {})
  }
  outgoing?.once('close', cancel)
  const held: unknown[] = []
  let size = 0
  try {
    for (;;) {
      let next: ReadableStreamReadResult<unknown>
      try {
        next = await reader.read()
      } catch (error) {
        // Nothing of this response went out yet: it can still be answered.
        return failed(error)
      }
      const { done, value } = next
      if (done) {
        return new Response(Buffer.concat(held as Uint8Array[], size), part(status, headers))
      }
      // node-server writes a string chunk as Node's `write` does, in UTF-8.
      const bytes = typeof value === 'string' ? Buffer.from(value) : value
      held.push(bytes)
      // Anything else is not measured: it streams, and node-server writes it as for HTTP/1.1.
      if (!(bytes instanceof Uint8Array)) {
        break
      }
      size += bytes.byteLength
      if (size > HTTP10_BUFFER_BYTES) {
        break
      }
    }
  } finally {
    outgoing?.off('close', cancel)
  }
  const rest = readOn(reader, held)
  return new Response(rest as ReadableStream<Uint8Array>, part(status, headers))
}

/**
 * The init of a new node-server Response with the app's own status and headers: it checks
 * neither, and keeps them as given for the response guard.
 */
function part(status: number, headers: unknown): ResponseInit {
  return { status, headers: headers as HeadersInit | undefined }
}

/** Whether the app declared a length, in any of the forms node-server takes headers in. */
function hasLength(headers: unknown): boolean {
  if (headers instanceof Headers) {
    return headers.has('content-length')
  }
  if (Array.isArray(headers)) {
    return headers.some((pair) => isLength((pair as unknown[])[0]))
  }
  if (typeof headers === 'object' && headers !== null) {
    return Object.keys(headers).some(isLength)
  }
  return false
}

function isLength(name: unknown): boolean {
  return typeof name === 'string' && name.length === 14 && name.toLowerCase() === 'content-length'
}
