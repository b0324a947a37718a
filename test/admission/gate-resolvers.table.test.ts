/**
 * The admission gate with the resolvers users write: a function resolver, a `requireAuth`, and
 * ProxyAuthResolver. One row per rule of SPEC.md's "Resolvers" and "Admission: the guarantees"
 * (fail closed, the prefix is a boundary, credentials belong to the tunnel), and the public pages
 * of the 2026-12-04 additions. No sockets.
 */
import type { Admission, AskedRequest, TunnelIdentity } from '../../src/admission/decision'
import { ProxyAuthResolver } from '../../src/admission/resolvers'
import { resolverOption } from '../../src/option-checks'
import type { Resolver } from '../../src/types'
import type { Row } from '../helpers/gate'
import {
  ADMISSION_TIMEOUT_MS,
  ASK,
  asked,
  basic,
  FAILED_AUTH,
  get,
  ME,
  never,
  PROXY_APP,
  PROXY_HOST,
  REALM,
  refused,
  routed,
  SPEC,
  testGate,
  TLS_443,
  translated,
  tunnel,
} from '../helpers/gate'

/** A function resolver, adapted as the `resolver` option adapts one. */
const byFunction = (resolve: (url: string, request: Request) => unknown): Resolver =>
  resolverOption(resolve, undefined)

const FAILED_RESOLVE = refused(500, 'The proxy could not admit this request: resolve failed')

/** A resolver answer, what the gate decides on `http://example.com/a`, and what onError hears. */
const RESOLVE_ROWS: [string, string, () => unknown, Admission, RegExp | undefined][] = [
  [
    SPEC.resolvers,
    'a function gives the path',
    () => '/fn/x',
    translated('http', 'example.com', '/fn/x', 'http://example.com/a'),
    undefined,
  ],
  [
    SPEC.resolvers,
    'a function may answer with a Promise',
    () => Promise.resolve('/fn/later'),
    translated('http', 'example.com', '/fn/later', 'http://example.com/a'),
    undefined,
  ],
  [
    SPEC.boundary,
    'a dot segment in the query is allowed',
    () => '/fn?x=/../y',
    translated('http', 'example.com', '/fn?x=/../y', 'http://example.com/a'),
    undefined,
  ],
  [
    SPEC.failClosed,
    'it throws',
    () => {
      throw new Error('database down')
    },
    FAILED_RESOLVE,
    /^resolve failed: database down$/,
  ],
  [
    SPEC.failClosed,
    'it rejects',
    () => Promise.reject(new Error('gone')),
    FAILED_RESOLVE,
    /^resolve failed: gone$/,
  ],
  [
    SPEC.failClosed,
    'it returns a number',
    () => 42,
    FAILED_RESOLVE,
    /^resolve failed: the resolver returned a number, not a path$/,
  ],
  [
    SPEC.failClosed,
    'it returns undefined',
    () => undefined,
    FAILED_RESOLVE,
    // The wording of undefined ("a undefined") is not the rule; the refusal and the report are.
    /^resolve failed: the resolver returned (a )?undefined, not a path$/,
  ],
  [
    SPEC.failClosed,
    'it resolves to null',
    () => Promise.resolve(null),
    FAILED_RESOLVE,
    /^resolve failed: the resolver returned null, not a path$/,
  ],
  [
    SPEC.failClosed,
    'it never answers',
    never,
    FAILED_RESOLVE,
    new RegExp(`^resolve failed: resolve did not answer within ${ADMISSION_TIMEOUT_MS} ms$`),
  ],
  [
    SPEC.failClosed,
    'it returns a path without a leading /',
    () => 'fn/x',
    FAILED_RESOLVE,
    /does not start with \//,
  ],
  [
    SPEC.boundary,
    'it returns a path that climbs out with ..',
    () => '/fn/../../x',
    FAILED_RESOLVE,
    /'\.' or '\.\.' segment/,
  ],
  [
    SPEC.boundary,
    'it returns a path that climbs out with %2e%2e',
    () => '/fn/%2e%2E/x',
    FAILED_RESOLVE,
    /'\.' or '\.\.' segment/,
  ],
  [
    SPEC.boundary,
    'it returns a path with a backslash',
    () => '/fn\\..\\x',
    FAILED_RESOLVE,
    /backslash/,
  ],
  [
    SPEC.boundary,
    'it returns a path with a #',
    () => '/fn#x',
    FAILED_RESOLVE,
    /space, '#' or a control/,
  ],
]

describe('the admission gate with a function resolver', () => {
  it.each(RESOLVE_ROWS)('%s: %s', async (_rule, _name, answer, expected, report) => {
    const { gate, reported } = testGate(byFunction(answer))
    expect(await gate.admitRequest(undefined, get('http://example.com/a'))).toEqual(expected)
    expect(reported.map(({ error, context }) => [error.message, context])).toEqual(
      report ? [[expect.stringMatching(report), { phase: 'admission', host: 'example.com' }]] : []
    )
  })

  it('Proxy hosts and proxy apps: a proxy host is not translated by the resolver', async () => {
    const { gate } = testGate(byFunction(() => '/never'))
    expect(await gate.admitRequest(undefined, get('http://proxy-app-1/x'))).toEqual(
      routed(PROXY_APP, 'proxy-app-1', '/x', 'http://proxy-app-1/x')
    )
  })
})

/** What the resolver was shown: its URL, method, and the headers it must or must not see. */
interface Seen {
  url: string
  fullUrl: string
  method: string
  authorization: string | null
  forged: string | null
  host: string | null
}

/** A function resolver that records what it is shown. */
function witness(): { resolver: Resolver; seen: Seen[] } {
  const seen: Seen[] = []
  const resolver = byFunction((url, request) => {
    seen.push({
      url: request.url,
      fullUrl: url,
      method: request.method,
      authorization: request.headers.get('proxy-authorization'),
      forged: request.headers.get('x-wsgiprox-proxy-host'),
      host: request.headers.get('host'),
    })
    return '/seen'
  })
  return { resolver, seen }
}

const SEEN_ROWS: [string, TunnelIdentity | undefined, AskedRequest, Seen][] = [
  [
    'Translation: the resolver sees the normalised full URL and the client headers',
    undefined,
    get('http://example.com/a/%2e%2e/b?c', [
      ['Host', 'example.com'],
      ['Proxy-Authorization', basic('me')],
    ]),
    {
      url: 'http://example.com/b?c',
      fullUrl: 'http://example.com/b?c',
      method: 'GET',
      authorization: basic('me'),
      forged: null,
      host: 'example.com',
    },
  ],
  [
    'Translation: a forged X-Wsgiprox-Proxy-Host never reaches the resolver',
    undefined,
    asked('POST', 'http://example.com/', [['X-Wsgiprox-Proxy-Host', 'forged']]),
    {
      url: 'http://example.com/',
      fullUrl: 'http://example.com/',
      method: 'POST',
      authorization: null,
      forged: null,
      host: null,
    },
  ],
  [
    'Admission: the guarantees: credentials belong to the tunnel: one sent inside is replaced by the tunnel one',
    tunnel('example.com', 443, { authorization: basic('tunnel-user') }),
    get('/a', [
      ['Host', 'example.com'],
      ['Proxy-Authorization', basic('inner-user')],
    ]),
    {
      url: 'https://example.com/a',
      fullUrl: 'https://example.com/a',
      method: 'GET',
      authorization: basic('tunnel-user'),
      forged: null,
      host: 'example.com',
    },
  ],
  [
    'Admission: the guarantees: credentials belong to the tunnel: one sent inside a tunnel opened without is dropped',
    tunnel('example.com', 443),
    get('/a', [
      ['Host', 'example.com'],
      ['Proxy-Authorization', basic('inner-user')],
    ]),
    {
      url: 'https://example.com/a',
      fullUrl: 'https://example.com/a',
      method: 'GET',
      authorization: null,
      forged: null,
      host: 'example.com',
    },
  ],
]

describe('what a resolver is shown', () => {
  it.each(SEEN_ROWS)('%s', async (_rule, inside, request, expected) => {
    const { resolver, seen } = witness()
    const { gate } = testGate(resolver)
    expect(await gate.admitRequest(inside, request)).toMatchObject({ kind: 'serve', path: '/seen' })
    expect(seen).toEqual([expected])
  })
})

const withMe = (extra: [string, string][] = []): [string, string][] => [
  ['Proxy-Authorization', ME],
  ...extra,
]

/** Rows for ProxyAuthResolver(REALM): 407 without a user name, `/<user>/<url>` with one. */
const AUTH_ROWS: Row[] = [
  {
    rule: SPEC.resolvers,
    name: 'an absolute-form request without Proxy-Authorization is challenged',
    request: get('http://example.com/a'),
    expected: ASK,
  },
  {
    rule: SPEC.resolvers,
    name: 'with Basic credentials the path is /<username>/<url>',
    request: get('http://example.com/a?b', withMe()),
    expected: translated(
      'http',
      'example.com',
      '/my-coll/http://example.com/a?b',
      'http://example.com/a?b'
    ),
  },
  {
    rule: SPEC.resolvers,
    name: 'a user name that is a dot segment is asked again',
    request: get('http://example.com/a', [['Proxy-Authorization', basic('..')]]),
    expected: ASK,
  },
  {
    rule: SPEC.resolvers,
    name: 'credentials that are not Basic are asked again',
    request: get('http://example.com/a', [['Proxy-Authorization', 'Bearer abc']]),
    expected: ASK,
  },
  {
    rule: SPEC.resolvers,
    name: 'a user name with / and ? stays inside the path',
    request: get('http://example.com/a', [['Proxy-Authorization', basic('coll/2020?x')]]),
    expected: translated(
      'http',
      'example.com',
      '/coll/2020%3Fx/http://example.com/a',
      'http://example.com/a'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'credentials belong to the tunnel: the tunnel user names the path',
    tunnel: tunnel('example.com', 443, { authorization: basic('tunnel-user') }),
    request: get('/a', [
      ['Host', 'example.com'],
      ['Proxy-Authorization', basic('inner-user')],
    ]),
    expected: translated(
      'https',
      'example.com',
      '/tunnel-user/https://example.com/a',
      'https://example.com/a'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'credentials belong to the tunnel: Proxy-Authorization inside a tunnel without is ignored',
    tunnel: TLS_443,
    request: get('/a', withMe([['Host', 'example.com']])),
    expected: ASK,
  },
  {
    rule: SPEC.added,
    name: 'the CA downloads need no login',
    request: get('http://wsgiprox/download/pem'),
    expected: routed(PROXY_HOST, 'wsgiprox', '/download/pem', 'http://wsgiprox/download/pem'),
  },
  {
    rule: SPEC.added,
    name: 'the landing page needs no login, inside a tunnel either',
    tunnel: tunnel(PROXY_HOST, 443),
    request: get('/download/?x', [['Host', PROXY_HOST]]),
    expected: routed(PROXY_HOST, 'wsgiprox', '/download/?x', 'https://wsgiprox/download/?x'),
  },
  {
    rule: SPEC.added,
    name: 'the PAC file through the proxy needs no login, with HEAD as with GET',
    request: asked('HEAD', 'http://wsgiprox/proxy.pac'),
    expected: routed(PROXY_HOST, 'wsgiprox', '/proxy.pac', 'http://wsgiprox/proxy.pac'),
  },
  {
    rule: SPEC.added,
    name: 'the direct PAC URL needs no login',
    request: get('/proxy.pac', [['Host', '127.0.0.1:8080']]),
    expected: routed(PROXY_HOST, 'wsgiprox', '/proxy.pac', 'http://wsgiprox/proxy.pac'),
  },
  {
    rule: SPEC.added,
    name: 'a POST to a download path is not public',
    request: asked('POST', 'http://wsgiprox/download/pem'),
    expected: ASK,
  },
  {
    rule: SPEC.added,
    name: 'a download path reached by dot segments is public as its normalised path',
    request: get('http://wsgiprox/x/../download/p12'),
    expected: routed(PROXY_HOST, 'wsgiprox', '/download/p12', 'http://wsgiprox/download/p12'),
  },
  {
    rule: SPEC.proxyHosts,
    name: 'other paths of the proxy host are guarded by the login',
    request: get('http://wsgiprox/other'),
    expected: ASK,
  },
  {
    rule: SPEC.proxyHosts,
    name: 'other paths of the proxy host are served untranslated once logged in',
    request: get('http://wsgiprox/other', withMe()),
    expected: routed(PROXY_HOST, 'wsgiprox', '/other', 'http://wsgiprox/other'),
  },
  {
    rule: SPEC.proxyHosts,
    name: 'a proxy app is guarded by the login',
    request: get('http://proxy-app-1/x'),
    expected: ASK,
  },
  {
    rule: SPEC.added,
    name: 'a HEAD without credentials is challenged as a GET is',
    request: asked('HEAD', 'http://example.com/a'),
    expected: ASK,
  },
  {
    rule: SPEC.translation,
    name: 'an origin-form request on a direct connection is passthrough, without a login',
    request: get('/a', [['Host', 'localhost:3000']]),
    expected: { kind: 'passthrough' },
  },
]

describe('the admission gate with a ProxyAuthResolver', () => {
  it.each(AUTH_ROWS)('$rule: $name', async (row) => {
    const { gate, reported } = testGate(new ProxyAuthResolver(REALM))
    expect(await gate.admitRequest(row.tunnel, row.request)).toEqual(row.expected)
    expect(reported).toEqual([])
  })

  it('Resolvers: ProxyAuthResolver() asks with the realm "Please enter prefix path"', async () => {
    const { gate } = testGate(new ProxyAuthResolver())
    expect(await gate.admitRequest(undefined, get('http://example.com/'))).toEqual({
      kind: 'challenge',
      realm: 'Please enter prefix path',
    })
  })
})

/** A `requireAuth` answer and what the gate decides on `http://example.com/a` with it. */
const REQUIRE_AUTH_ROWS: [string, () => unknown, Admission, RegExp | undefined][] = [
  ['a realm challenges', () => 'realm', { kind: 'challenge', realm: 'realm' }, undefined],
  [
    'a Promise of a realm challenges',
    () => Promise.resolve('later'),
    { kind: 'challenge', realm: 'later' },
    undefined,
  ],
  [
    'undefined lets the request on',
    () => undefined,
    translated('http', 'example.com', '/ok', 'http://example.com/a'),
    undefined,
  ],
  [
    'a throw refuses',
    () => {
      throw new Error('no db')
    },
    FAILED_AUTH,
    /^requireAuth failed: no db$/,
  ],
  [
    'a rejection refuses',
    () => Promise.reject(new Error('late no')),
    FAILED_AUTH,
    /^requireAuth failed: late no$/,
  ],
  [
    'a number refuses',
    () => 401,
    FAILED_AUTH,
    /^requireAuth failed: it returned a number, not a realm string or undefined$/,
  ],
  ['null refuses', () => null, FAILED_AUTH, /^requireAuth failed: it returned null/],
  [
    'true refuses',
    () => Promise.resolve(true),
    FAILED_AUTH,
    /^requireAuth failed: it returned a boolean/,
  ],
  [
    'no answer refuses',
    never,
    FAILED_AUTH,
    new RegExp(
      `^requireAuth failed: requireAuth did not answer within ${ADMISSION_TIMEOUT_MS} ms$`
    ),
  ],
]

describe('the admission gate with a requireAuth', () => {
  it.each(REQUIRE_AUTH_ROWS)(
    'Resolvers, and fail closed: %s',
    async (_name, requireAuth, expected, report) => {
      const { gate, reported } = testGate({ requireAuth, resolve: () => '/ok' } as Resolver)
      expect(await gate.admitRequest(undefined, get('http://example.com/a'))).toEqual(expected)
      expect(reported.map(({ error, context }) => [error.message, context])).toEqual(
        report ? [[expect.stringMatching(report), { phase: 'admission', host: 'example.com' }]] : []
      )
    }
  )

  it('Admission: the guarantees: fail closed: a failing requireAuth refuses a CONNECT too', async () => {
    const { gate } = testGate({ requireAuth: never, resolve: () => '/ok' })
    expect(await gate.admitTunnel(undefined, 'example.com:443', undefined)).toEqual(FAILED_AUTH)
  })
})
