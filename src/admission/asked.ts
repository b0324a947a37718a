/**
 * The request as a user's callback sees it: a body-less Fetch `Request` built only when a
 * callback needs one, with the tunnel's credentials and none of the proxy's own headers.
 * @module
 */
import { PROXY_HOST_HEADER } from '../app/rewrite'
import type { AskedRequest } from './decision'

/** A body-less Request; methods Fetch forbids (CONNECT, TRACE) are shown as GET. */
export function requestOf(url: string, method: string, headers: Headers): Request {
  try {
    return new Request(url, { method, headers })
  } catch {
    return new Request(url, { method: 'GET', headers })
  }
}

/** Headers holding only `authorization` as `Proxy-Authorization`, if there is one. */
export function authHeaders(authorization: string | undefined): Headers {
  const headers = new Headers()
  if (authorization !== undefined) {
    headers.set('proxy-authorization', authorization)
  }
  return headers
}

/**
 * The client's headers as the resolver sees them: without a forged proxy-host header, HTTP/2
 * pseudo-headers or header values Fetch cannot hold, and with `authorization` as the only
 * `Proxy-Authorization`.
 */
export function clientHeaders(request: AskedRequest, authorization: string | undefined): Headers {
  const headers = new Headers()
  const raw = request.rawHeaders
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase()
    if (name.startsWith(':') || name === PROXY_HOST_HEADER || name === 'proxy-authorization') {
      continue
    }
    try {
      headers.append(name, raw[i + 1] ?? '')
    } catch {
      // A value Fetch refuses (a NUL, for instance) is left out of the resolver's view only.
    }
  }
  if (authorization !== undefined) {
    headers.set('proxy-authorization', authorization)
  }
  return headers
}

/** The first of a header's values. */
export function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** `text` quoted for a one-line reason, cut at 200 characters. */
export function quote(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}...` : text)
}
