/**
 * Responses for HTTP/1.0 clients, which have no chunked encoding: a body that ends soon is sent
 * with a Content-Length, anything longer streams and the closing of the connection ends it
 * (RFC 9112 §6.3). Memory stays bounded either way.
 * @module
 */
import type { ServerResponse } from 'node:http'

/**
 * How much of a body without a length is held to give it a Content-Length. Past this, the rest
 * streams as it comes, as it does for HTTP/1.1 clients.
 */
export const HTTP10_BUFFER_BYTES = 64 * 1024

/**
 * `response` as an HTTP/1.0 client should get it. While the head of the body is read, a client
 * that leaves (`outgoing` closes) cancels the app's stream; later, node-server does.
 */
export async function forHttp10(
  response: Response,
  outgoing: ServerResponse | undefined
): Promise<Response> {
  if (response.body === null || response.headers.has('content-length')) {
    return response
  }
  const reader = response.body.getReader()
  const cancel = () => {
    reader.cancel().catch(() => {})
  }
  outgoing?.once('close', cancel)
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) {
        const headers = new Headers(response.headers)
        headers.set('content-length', String(size))
        return new Response(Buffer.concat(chunks, size), init(response, headers))
      }
      chunks.push(value)
      size += value.byteLength
      if (size > HTTP10_BUFFER_BYTES) {
        break
      }
    }
  } finally {
    outgoing?.off('close', cancel)
  }
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) {
        controller.enqueue(chunk)
      }
      chunks.length = 0
    },
    async pull(controller) {
      const { done, value } = await reader.read()
      if (done) {
        controller.close()
      } else {
        controller.enqueue(value)
      }
    },
    cancel(reason) {
      return reader.cancel(reason)
    },
  })
  return new Response(body, init(response, response.headers))
}

function init(response: Response, headers: Headers): ResponseInit {
  return { status: response.status, statusText: response.statusText, headers }
}
