/**
 * The rewrite of an admitted request, one row per rule of SPEC.md ("Translation", and the
 * 2026-12-04 "the same request on every protocol"), on HTTP/1.x requests shaped as Node's parser
 * leaves them and on real `Http2ServerRequest`s. node-server reads `rawHeaders` for requests and
 * `headers` for WebSocket upgrades, so every row checks both.
 */
import { EventEmitter } from 'node:events'
import { Http2ServerRequest } from 'node:http2'
import type { ServerHttp2Stream } from 'node:http2'
import type { RewritableRequest, Rewrite } from '../../src/app/rewrite'
import { rewriteRequest } from '../../src/app/rewrite'

type Pairs = [string, string][]

/** What the app side reads of a request: its url, its raw header pairs and its header object. */
interface Seen {
  url: string | undefined
  raw: Pairs
  headers: Record<string, string | string[] | undefined>
}

/** An HTTP/1.x request as Node's parser leaves it: a repeated Host keeps its first value. */
function http1(url: string, pairs: Pairs, minor = 1): RewritableRequest & { httpVersion: string } {
  const headers: Record<string, string> = {}
  for (const [name, value] of pairs) {
    const key = name.toLowerCase()
    headers[key] =
      headers[key] === undefined || key === 'host'
        ? (headers[key] ?? value)
        : `${headers[key]}, ${value}`
  }
  return { url, httpVersionMajor: 1, httpVersion: `1.${minor}`, rawHeaders: pairs.flat(), headers }
}

/** A real HTTP/2 compatibility request: `url` writes `:path`, `rawHeaders` has no setter. */
function http2(pairs: Pairs): Http2ServerRequest {
  const stream = Object.assign(new EventEmitter(), { session: {} })
  const headers: Record<string, string> = {}
  for (const [name, value] of pairs) {
    headers[name] ??= value
  }
  return new Http2ServerRequest(stream as unknown as ServerHttp2Stream, headers, {}, pairs.flat())
}

/** The request as the app side reads it, header names lower-cased as HTTP makes them. */
function seen(request: RewritableRequest): Seen {
  const raw: Pairs = []
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    raw.push([(request.rawHeaders[i] ?? '').toLowerCase(), request.rawHeaders[i + 1] ?? ''])
  }
  return { url: request.url, raw, headers: { ...request.headers } }
}

const ADMITTED: Rewrite = {
  path: '/prefix/https://example.com/a?b',
  host: 'example.com',
  proxyHost: 'wsgiprox',
  scheme: 'https',
}
const FORGED: Pairs = [
  ['X-Wsgiprox-Proxy-Host', 'forged'],
  ['Proxy-Authorization', 'Basic Zm9yZ2VkOg=='],
  ['Proxy-Connection', 'keep-alive'],
]

const T = 'Translation'
const SAME = 'Added 2026-12-04: the same request on every protocol'

/** What the app side reads of an HTTP/1.1 request with Host and Accept admitted as ADMITTED. */
const ADMITTED_H1: Seen = {
  url: '/prefix/https://example.com/a?b',
  raw: [
    ['host', 'example.com'],
    ['accept', '*/*'],
    ['x-wsgiprox-proxy-host', 'wsgiprox'],
  ],
  headers: { host: 'example.com', accept: '*/*', 'x-wsgiprox-proxy-host': 'wsgiprox' },
}

/** HTTP/1.x rows: the rule, the request, the rewrite, and what the app side reads. */
const HTTP1_ROWS: [string, string, () => RewritableRequest, Rewrite, Seen][] = [
  [
    T,
    'the url becomes the admitted path, and X-Wsgiprox-Proxy-Host the proxy host',
    () =>
      http1('/a?b', [
        ['Host', 'example.com'],
        ['Accept', '*/*'],
      ]),
    ADMITTED,
    ADMITTED_H1,
  ],
  [
    T,
    'an absolute-form request sees only its path',
    () => http1('http://example.com:8000/a', [['Host', 'example.com:8000']]),
    { path: '/prefix/http://example.com:8000/a', host: 'example.com:8000', proxyHost: 'wsgiprox' },
    {
      url: '/prefix/http://example.com:8000/a',
      raw: [
        ['host', 'example.com:8000'],
        ['x-wsgiprox-proxy-host', 'wsgiprox'],
      ],
      headers: { host: 'example.com:8000', 'x-wsgiprox-proxy-host': 'wsgiprox' },
    },
  ],
  [
    SAME,
    'Host is the admitted one, not the one the client sent',
    () =>
      http1('/a', [
        ['Host', 'EXAMPLE.com:443'],
        ['Accept', '*/*'],
      ]),
    { path: '/p', host: 'example.com', proxyHost: 'wsgiprox' },
    {
      url: '/p',
      raw: [
        ['host', 'example.com'],
        ['accept', '*/*'],
        ['x-wsgiprox-proxy-host', 'wsgiprox'],
      ],
      headers: { host: 'example.com', accept: '*/*', 'x-wsgiprox-proxy-host': 'wsgiprox' },
    },
  ],
  [
    SAME,
    'two Host headers become exactly one, the admitted one',
    () =>
      http1('/a', [
        ['Host', 'example.com'],
        ['X-A', '1'],
        ['host', 'evil.example'],
      ]),
    { path: '/p', host: 'example.com', proxyHost: 'wsgiprox' },
    {
      url: '/p',
      raw: [
        ['host', 'example.com'],
        ['x-a', '1'],
        ['x-wsgiprox-proxy-host', 'wsgiprox'],
      ],
      headers: { host: 'example.com', 'x-a': '1', 'x-wsgiprox-proxy-host': 'wsgiprox' },
    },
  ],
  [
    SAME,
    'an HTTP/1.0 request without Host gets the admitted one',
    () => http1('/old', [['Accept', '*/*']], 0),
    { path: '/p', host: 'example.com:8080', proxyHost: 'wsgiprox' },
    {
      url: '/p',
      raw: [
        ['accept', '*/*'],
        ['host', 'example.com:8080'],
        ['x-wsgiprox-proxy-host', 'wsgiprox'],
      ],
      headers: { accept: '*/*', host: 'example.com:8080', 'x-wsgiprox-proxy-host': 'wsgiprox' },
    },
  ],
  [
    T,
    'a forged X-Wsgiprox-Proxy-Host, Proxy-Authorization and Proxy-Connection are removed',
    () => http1('/a', [['Host', 'example.com'], ...FORGED, ['Accept', '*/*']]),
    ADMITTED,
    ADMITTED_H1,
  ],
  [
    T,
    'a forged proxy-host header in any case and repeated is removed',
    () =>
      http1('/a', [
        ['x-WSGIPROX-proxy-HOST', 'one'],
        ['Host', 'proxy-app-1'],
        ['X-Wsgiprox-Proxy-Host', 'two'],
      ]),
    { path: '/a', host: 'proxy-app-1', proxyHost: 'proxy-app-1' },
    {
      url: '/a',
      raw: [
        ['host', 'proxy-app-1'],
        ['x-wsgiprox-proxy-host', 'proxy-app-1'],
      ],
      headers: { host: 'proxy-app-1', 'x-wsgiprox-proxy-host': 'proxy-app-1' },
    },
  ],
  [
    T,
    'a WebSocket upgrade is rewritten in headers as in rawHeaders',
    () =>
      http1('/ws', [
        ['Host', 'example.com'],
        ['Upgrade', 'websocket'],
        ['Connection', 'Upgrade'],
        ['Proxy-Authorization', 'Basic eDo='],
        ['X-Wsgiprox-Proxy-Host', 'forged'],
      ]),
    { path: '/prefix/http://example.com/ws', host: 'example.com', proxyHost: 'wsgiprox' },
    {
      url: '/prefix/http://example.com/ws',
      raw: [
        ['host', 'example.com'],
        ['upgrade', 'websocket'],
        ['connection', 'Upgrade'],
        ['x-wsgiprox-proxy-host', 'wsgiprox'],
      ],
      headers: {
        host: 'example.com',
        upgrade: 'websocket',
        connection: 'Upgrade',
        'x-wsgiprox-proxy-host': 'wsgiprox',
      },
    },
  ],
  [
    T,
    'HTTP/1 has no :scheme to force',
    () => http1('/a', [['Host', 'example.com']]),
    { path: '/p', host: 'example.com', proxyHost: 'wsgiprox', scheme: 'https' },
    {
      url: '/p',
      raw: [
        ['host', 'example.com'],
        ['x-wsgiprox-proxy-host', 'wsgiprox'],
      ],
      headers: { host: 'example.com', 'x-wsgiprox-proxy-host': 'wsgiprox' },
    },
  ],
  [
    T,
    'passthrough ({}) leaves the url, Host and other headers as they are',
    () =>
      http1('/a?b', [
        ['Host', 'localhost:3000'],
        ['Accept', '*/*'],
      ]),
    {},
    {
      url: '/a?b',
      raw: [
        ['host', 'localhost:3000'],
        ['accept', '*/*'],
      ],
      headers: { host: 'localhost:3000', accept: '*/*' },
    },
  ],
  [
    T,
    'passthrough carries no proxy-host header: a forged one and proxy credentials are removed',
    () => http1('/a', [['Host', 'localhost:3000'], ...FORGED]),
    {},
    { url: '/a', raw: [['host', 'localhost:3000']], headers: { host: 'localhost:3000' } },
  ],
]

describe('rewriteRequest on HTTP/1.x', () => {
  it.each(HTTP1_ROWS)('%s: %s', (_rule, _name, make, rewrite, expected) => {
    const request = make()
    rewriteRequest(request, rewrite)
    expect(seen(request)).toEqual(expected)
  })

  it('Translation: passthrough with nothing to remove keeps the same rawHeaders', () => {
    const request = http1('/a', [['Host', 'localhost:3000']])
    const raw = request.rawHeaders
    rewriteRequest(request, {})
    expect(request.rawHeaders).toBe(raw)
  })
})

const PSEUDO: Pairs = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':path', '/a?b'],
]

/** HTTP/2 rows: the rule, the request's header pairs, the rewrite, and what the app side reads. */
/** What the app side reads of an HTTP/2 request of PSEUDO admitted as ADMITTED. */
const ADMITTED_H2: Seen = {
  url: '/prefix/https://example.com/a?b',
  raw: [
    ...PSEUDO,
    [':authority', 'example.com'],
    ['host', 'example.com'],
    ['x-wsgiprox-proxy-host', 'wsgiprox'],
  ],
  headers: {
    ':method': 'GET',
    ':scheme': 'https',
    ':path': '/prefix/https://example.com/a?b',
    ':authority': 'example.com',
    host: 'example.com',
    'x-wsgiprox-proxy-host': 'wsgiprox',
  },
}

const HTTP2_ROWS: [string, string, Pairs, Rewrite, Seen][] = [
  [
    SAME,
    'an HTTP/2 request gets both :authority and host, the admitted one',
    [...PSEUDO, [':authority', 'example.com'], ['accept', '*/*']],
    ADMITTED,
    {
      url: '/prefix/https://example.com/a?b',
      raw: [
        ...PSEUDO,
        [':authority', 'example.com'],
        ['accept', '*/*'],
        ['host', 'example.com'],
        ['x-wsgiprox-proxy-host', 'wsgiprox'],
      ],
      headers: {
        ':method': 'GET',
        ':scheme': 'https',
        ':path': '/prefix/https://example.com/a?b',
        ':authority': 'example.com',
        accept: '*/*',
        host: 'example.com',
        'x-wsgiprox-proxy-host': 'wsgiprox',
      },
    },
  ],
  [
    T,
    ':scheme is forced to the admitted scheme',
    [
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/x'],
      [':authority', 'example.com'],
    ],
    { path: '/p', host: 'example.com', proxyHost: 'wsgiprox', scheme: 'https' },
    {
      url: '/p',
      raw: [
        [':method', 'GET'],
        [':scheme', 'https'],
        [':path', '/x'],
        [':authority', 'example.com'],
        ['host', 'example.com'],
        ['x-wsgiprox-proxy-host', 'wsgiprox'],
      ],
      headers: {
        ':method': 'GET',
        ':scheme': 'https',
        ':path': '/p',
        ':authority': 'example.com',
        host: 'example.com',
        'x-wsgiprox-proxy-host': 'wsgiprox',
      },
    },
  ],
  [
    SAME,
    'a host sent besides :authority leaves exactly one of each',
    [...PSEUDO, [':authority', 'example.com:443'], ['host', 'evil.example']],
    ADMITTED,
    ADMITTED_H2,
  ],
  [
    SAME,
    'a request with host and no :authority gets both',
    [...PSEUDO, ['host', 'example.com']],
    ADMITTED,
    ADMITTED_H2,
  ],
  [SAME, 'a request with neither gets both', [...PSEUDO], ADMITTED, ADMITTED_H2],
  [
    T,
    'a forged proxy-host header and proxy credentials are removed over HTTP/2',
    [
      ...PSEUDO,
      [':authority', 'example.com'],
      ...FORGED.map(([n, v]): [string, string] => [n.toLowerCase(), v]),
    ],
    ADMITTED,
    ADMITTED_H2,
  ],
]

describe('rewriteRequest on HTTP/2', () => {
  it.each(HTTP2_ROWS)('%s: %s', (_rule, _name, pairs, rewrite, expected) => {
    const request = http2(pairs)
    const raw = request.rawHeaders
    rewriteRequest(request, rewrite)
    expect(seen(request)).toEqual(expected)
    // In place: an Http2ServerRequest's rawHeaders has no setter, so a new array would be lost.
    expect(request.rawHeaders).toBe(raw)
  })

  it('Translation: node-server reads the admitted host from the request authority', () => {
    const request = http2([...PSEUDO, [':authority', 'evil.example']])
    rewriteRequest(request, ADMITTED)
    expect(request.authority).toBe('example.com')
    expect(request.url).toBe('/prefix/https://example.com/a?b')
  })
})
