/**
 * The request as a user's callback sees it: a body-less Fetch `Request` built only when a
 * callback needs one, with the tunnel's credentials and none of the proxy's own headers.
 * @module
 */
import { PROXY_HOST_HEADER } from '../app/rewrite'

/** Methods Fetch refuses in a Request: a callback sees them as GET. */
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK'])
/** Methods Fetch writes in upper case whatever case they came in. */
const NORMALISED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'])
const TOKEN = /^[!#$%&'*+.^`|~\w-]+$/

/** `method` as a Fetch Request shows it; one Fetch refuses is shown as GET. */
export function fetchMethod(method: string): string {
  const upper = method.toUpperCase()
  if (NORMALISED_METHODS.has(upper)) {
    return upper
  }
  return FORBIDDEN_METHODS.has(upper) || !TOKEN.test(method) ? 'GET' : method
}

interface Parts {
  url: string
  method: string
  headers: () => Headers
  href?: string
  builtHeaders?: Headers
  request?: Request
}

const PARTS = Symbol('asked request')

type View = Request & { [PARTS]: Parts }

const partsOf = (view: unknown): Parts => {
  const found = (view as Partial<View> | null)?.[PARTS]
  if (!found) {
    throw new TypeError('Illegal invocation')
  }
  return found
}

const headersOf = (of: Parts) => (of.builtHeaders ??= of.headers())

/** The whole Fetch Request behind a view, built the first time anything else is asked. */
const realOf = (view: unknown): Request => {
  const of = partsOf(view)
  return (of.request ??= new Request(of.url, { method: of.method, headers: headersOf(of) }))
}

/**
 * What a view answers itself: the URL, the method and the headers, which are all a resolver
 * usually reads. Everything else (`signal`, `clone()`, the body methods...) is the real
 * Request's, built on first use: a Fetch Request costs several microseconds (its AbortSignal,
 * WebIDL conversions), more than the rest of admission.
 */
const viewPrototype = Object.create(Request.prototype, {
  url: {
    get(this: unknown) {
      const of = partsOf(this)
      return (of.href ??= new URL(of.url).href)
    },
  },
  method: {
    get(this: unknown) {
      return partsOf(this).method
    },
  },
  headers: {
    get(this: unknown) {
      return headersOf(partsOf(this))
    },
  },
}) as object
for (const name of Object.getOwnPropertyNames(Request.prototype)) {
  const descriptor = Object.getOwnPropertyDescriptor(Request.prototype, name)
  if (Object.hasOwn(viewPrototype, name) || name === 'constructor' || !descriptor) {
    continue
  }
  if (descriptor.get) {
    Object.defineProperty(viewPrototype, name, {
      get(this: unknown) {
        return Reflect.get(realOf(this), name) as unknown
      },
    })
  } else if (typeof descriptor.value === 'function') {
    const method = descriptor.value as (...args: unknown[]) => unknown
    Object.defineProperty(viewPrototype, name, {
      value(this: unknown, ...args: unknown[]) {
        return Reflect.apply(method, realOf(this), args)
      },
    })
  }
}

/**
 * A body-less Request for a user's callback, `instanceof Request`. Its URL, method and headers
 * are answered without building a Fetch Request, and `headers` is called only when they are
 * read; methods Fetch forbids (CONNECT, TRACE) are shown as GET.
 */
export function requestOf(url: string, method: string, headers: () => Headers): Request {
  const view = Object.create(viewPrototype) as View
  view[PARTS] = { url, method: fetchMethod(method), headers }
  return view
}

/** A GET for `url` whose only header is `authorization` as `Proxy-Authorization`, if there is one. */
export function authRequest(url: string, authorization: string | undefined): Request {
  return requestOf(url, 'GET', () => {
    const headers = new Headers()
    if (authorization !== undefined) {
      headers.set('proxy-authorization', authorization)
    }
    return headers
  })
}

/**
 * The client's request as the resolver sees it. `raw` is copied now: the request's own headers
 * are rewritten in place once it is admitted, and the resolver may read them later.
 */
export function clientRequest(
  url: string,
  method: string,
  raw: readonly string[],
  authorization: string | undefined
): Request {
  const copy = raw.slice()
  return requestOf(url, method, () => clientHeaders(copy, authorization))
}

/**
 * The client's headers as the resolver sees them: without a forged proxy-host header, HTTP/2
 * pseudo-headers or header values Fetch cannot hold, and with `authorization` as the only
 * `Proxy-Authorization`.
 */
function clientHeaders(raw: readonly string[], authorization: string | undefined): Headers {
  const headers = new Headers()
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
