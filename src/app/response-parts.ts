/**
 * An app's Response as node-server will write it, read without turning it into the platform's
 * own. node-server's Response (the global one once its listener is made) checks nothing: its
 * status and headers go to `writeHead` as given, where the response guard checks them. Its
 * `body` and `statusText` getters build a platform Response instead, which throws on what the
 * guard would answer `502` to (a status outside 200-599, a CR/LF in a header, a body on a 204)
 * and quietly changes some of the rest (`'404'` becomes 404, `200.5` becomes 200).
 * @module
 */

/** The status, body and headers node-server writes, as the app gave them. */
export type ResponseParts = [status: number, body: unknown, headers: unknown]

/**
 * node-server's Response keeps `[status, body, headers]` under a symbol of its own, described
 * `cache`, while its body is `null`, a string, bytes, a Blob or a stream.
 */
let cacheSymbol: symbol | undefined

/** The parts node-server keeps of `response`; `undefined` for any other Response. */
export function cachedParts(response: Response): ResponseParts | undefined {
  if (cacheSymbol === undefined) {
    cacheSymbol = Object.getOwnPropertySymbols(response).find((s) => s.description === 'cache')
    if (cacheSymbol === undefined) {
      return undefined
    }
  }
  const parts = (response as unknown as Record<symbol, unknown>)[cacheSymbol]
  return Array.isArray(parts) && parts.length === 3 ? (parts as ResponseParts) : undefined
}

/**
 * A Response of another Fetch implementation than the platform's (the undici package's `fetch`
 * answers with its own class, which `instanceof Response` does not know), made one of ours with
 * its status, reason phrase, headers and body stream; `undefined` for anything else. Read as
 * such a Response is read: a number status, iterable headers, a body that is null or a stream.
 */
export function adoptResponse(value: unknown): Response | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return undefined
  }
  const { status, statusText, headers, body } = value as Partial<Response>
  if (
    typeof status !== 'number' ||
    typeof (headers as Partial<Iterable<unknown>> | undefined)?.[Symbol.iterator] !== 'function' ||
    !(body === null || body instanceof ReadableStream)
  ) {
    return undefined
  }
  return new Response(body, { status, statusText, headers: new Headers(headers) })
}
