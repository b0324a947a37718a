/**
 * The admission gate, one row per rule of SPEC.md's "Translation", "Proxy hosts and proxy apps"
 * and "Admission: the guarantees": a request (the tunnel it came through, or none; the method,
 * target and headers) and the decision the gate takes on it. No sockets: the gate is called as
 * every way in calls it. Resolvers other than FixedResolver are in gate-resolvers.table.test.ts,
 * tunnels and SNI names in gate-tunnels.table.test.ts.
 */
import { FixedResolver } from '../../src/admission/resolvers'
import type { Row } from '../helpers/gate'
import {
  asked,
  get,
  PROXY_ALIAS,
  PROXY_APP,
  PROXY_HOST,
  refused,
  routed,
  SPEC,
  testGate,
  TLS_443,
  translated,
  tunnel,
} from '../helpers/gate'

const TLS_123 = tunnel('example.com', 123)
const TLS_8443 = tunnel('example.com', 8443)
const PLAIN_80 = tunnel('example.com', 80, { scheme: 'http' })
const PLAIN_8080 = tunnel('example.com', 8080, { scheme: 'http' })
const IPV6 = tunnel('::1', 443)
const BY_ADDRESS = tunnel('93.184.215.14', 443, { sni: 'example.com' })

/** Rows for the FixedResolver('/prefix/'): translation, proxy hosts, the tunnel's host. */
const FIXED_ROWS: Row[] = [
  {
    rule: SPEC.guarantees,
    name: 'two Host lines are refused, whatever the first says (RFC 9112 §3.2)',
    request: get('http://example.com/a', [
      ['Host', 'example.com'],
      ['host', 'other.example'],
    ]),
    expected: refused(400, 'More than one Host header: a request names one host (RFC 9112 §3.2)'),
  },
  {
    rule: SPEC.translation,
    name: 'the app sees prefix + full URL of an absolute-form request',
    request: get('http://example.com/a?b'),
    expected: translated(
      'http',
      'example.com',
      '/prefix/http://example.com/a?b',
      'http://example.com/a?b'
    ),
  },
  {
    rule: SPEC.translation,
    name: 'a port other than the default is shown',
    request: get('http://example.com:8000/a?b'),
    expected: translated(
      'http',
      'example.com:8000',
      '/prefix/http://example.com:8000/a?b',
      'http://example.com:8000/a?b'
    ),
  },
  {
    rule: SPEC.translation,
    name: 'the default port of http is elided',
    request: get('http://example.com:80/a'),
    expected: translated(
      'http',
      'example.com',
      '/prefix/http://example.com/a',
      'http://example.com/a'
    ),
  },
  {
    rule: SPEC.translation,
    name: 'the default port of https is elided',
    request: get('https://example.com:443/a'),
    expected: translated(
      'https',
      'example.com',
      '/prefix/https://example.com/a',
      'https://example.com/a'
    ),
  },
  {
    rule: SPEC.translation,
    name: 'an absolute URL without a path names /',
    request: get('http://example.com?q'),
    expected: translated(
      'http',
      'example.com',
      '/prefix/http://example.com/?q',
      'http://example.com/?q'
    ),
  },
  {
    rule: SPEC.translation,
    name: 'host names are lower-cased and lose a trailing dot',
    request: get('HTTP://Example.COM./a'),
    expected: translated(
      'http',
      'example.com',
      '/prefix/http://example.com/a',
      'http://example.com/a'
    ),
  },
  {
    rule: SPEC.translation,
    name: 'an IPv6 host keeps its brackets and its port',
    request: get('http://[0:0::1]:8080/a'),
    expected: translated(
      'http',
      '[::1]:8080',
      '/prefix/http://[::1]:8080/a',
      'http://[::1]:8080/a'
    ),
  },
  {
    rule: SPEC.translation,
    name: 'inside a TLS tunnel the scheme is https and port 443 is elided',
    tunnel: TLS_443,
    request: get('/a?b', [['Host', 'example.com']]),
    expected: translated(
      'https',
      'example.com',
      '/prefix/https://example.com/a?b',
      'https://example.com/a?b'
    ),
  },
  {
    rule: SPEC.translation,
    name: 'a CONNECT to example.com:123 gives https://example.com:123/',
    tunnel: TLS_123,
    request: get('/x', [['Host', 'example.com:123']]),
    expected: translated(
      'https',
      'example.com:123',
      '/prefix/https://example.com:123/x',
      'https://example.com:123/x'
    ),
  },
  {
    rule: SPEC.translation,
    name: 'inside a plain tunnel the scheme is http and port 80 is elided',
    tunnel: PLAIN_80,
    request: get('/ws', [['Host', 'example.com']]),
    expected: translated(
      'http',
      'example.com',
      '/prefix/http://example.com/ws',
      'http://example.com/ws'
    ),
  },
  {
    rule: SPEC.translation,
    name: 'a plain tunnel on another port shows it',
    tunnel: PLAIN_8080,
    request: get('/ws', [['Host', 'example.com:8080']]),
    expected: translated(
      'http',
      'example.com:8080',
      '/prefix/http://example.com:8080/ws',
      'http://example.com:8080/ws'
    ),
  },
  {
    rule: SPEC.translation,
    name: 'an IPv6 tunnel gives a bracketed host',
    tunnel: IPV6,
    request: get('/a', [['Host', '[::1]']]),
    expected: translated('https', '[::1]', '/prefix/https://[::1]/a', 'https://[::1]/a'),
  },
  {
    rule: SPEC.translation,
    name: 'percent-encoding may be normalised (non-ASCII is encoded)',
    request: get('http://example.com/ä?x=ü'),
    expected: translated(
      'http',
      'example.com',
      '/prefix/http://example.com/%C3%A4?x=%C3%BC',
      'http://example.com/%C3%A4?x=%C3%BC'
    ),
  },
  {
    rule: SPEC.translation,
    name: 'an origin-form request on a direct connection is passthrough',
    request: get('/a?b', [['Host', 'localhost:3000']]),
    expected: { kind: 'passthrough' },
  },
  {
    rule: SPEC.translation,
    name: 'an origin-form request without Host is passthrough',
    request: get('/a'),
    expected: { kind: 'passthrough' },
  },
  {
    rule: SPEC.guarantees,
    name: 'the prefix is a boundary: dot segments are removed before the resolver',
    request: get('http://example.com/a/../../b?c'),
    expected: translated(
      'http',
      'example.com',
      '/prefix/http://example.com/b?c',
      'http://example.com/b?c'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the prefix is a boundary: %2e%2e is a dot segment',
    request: get('http://example.com/a/%2e%2e/%2E%2e/%2e./b'),
    expected: translated(
      'http',
      'example.com',
      '/prefix/http://example.com/b',
      'http://example.com/b'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the prefix is a boundary: backslashes are slashes, as browsers read them',
    request: get('http://example.com/a\\..\\..\\b'),
    expected: translated(
      'http',
      'example.com',
      '/prefix/http://example.com/b',
      'http://example.com/b'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the prefix is a boundary inside a tunnel too',
    tunnel: TLS_443,
    request: get('/../../etc/passwd', [['Host', 'example.com']]),
    expected: translated(
      'https',
      'example.com',
      '/prefix/https://example.com/etc/passwd',
      'https://example.com/etc/passwd'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'dot segments in the query are data, left as they are',
    request: get('http://example.com/a?x=/../y'),
    expected: translated(
      'http',
      'example.com',
      '/prefix/http://example.com/a?x=/../y',
      'http://example.com/a?x=/../y'
    ),
  },
  {
    rule: SPEC.proxyHosts,
    name: 'the proxy host sees its own path and query, routed to the main app',
    request: get('http://wsgiprox/a?b'),
    expected: routed(PROXY_HOST, 'wsgiprox', '/a?b', 'http://wsgiprox/a?b'),
  },
  {
    rule: SPEC.proxyHosts,
    name: 'a proxy app sees its own path, with its host as the proxy host',
    request: get('http://proxy-app-1:8080/x'),
    expected: routed(PROXY_APP, 'proxy-app-1:8080', '/x', 'http://proxy-app-1:8080/x'),
  },
  {
    rule: SPEC.proxyHosts,
    name: 'an alias through a TLS tunnel sees its own path',
    tunnel: tunnel(PROXY_ALIAS, 443),
    request: get('/x?y', [['Host', PROXY_ALIAS]]),
    expected: routed(PROXY_ALIAS, 'proxy-alias', '/x?y', 'https://proxy-alias/x?y'),
  },
  {
    rule: SPEC.proxyHosts,
    name: 'a proxy host path is normalised too',
    request: get('http://wsgiprox/download/../secret'),
    expected: routed(PROXY_HOST, 'wsgiprox', '/secret', 'http://wsgiprox/secret'),
  },
  {
    rule: SPEC.proxyHosts,
    name: 'a forged X-Wsgiprox-Proxy-Host does not choose the proxy host',
    request: get('http://example.com/', [['X-Wsgiprox-Proxy-Host', PROXY_APP]]),
    expected: translated(
      'http',
      'example.com',
      '/prefix/http://example.com/',
      'http://example.com/'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the host belongs to the tunnel: an absolute-form target for another host gets 421',
    tunnel: TLS_443,
    request: get('https://other.example/x', [['Host', 'example.com']]),
    expected: refused(
      421,
      'Misdirected request: this tunnel is for example.com, not other.example'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the host belongs to the tunnel: a Host for another host gets 421',
    tunnel: TLS_443,
    request: get('/x', [['Host', 'other.example']]),
    expected: refused(
      421,
      'Misdirected request: this tunnel is for example.com, not other.example'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the host belongs to the tunnel: a Host for another port gets 421',
    tunnel: TLS_443,
    request: get('/x', [['Host', 'example.com:8443']]),
    expected: refused(
      421,
      'Misdirected request: this tunnel is for example.com:443, not example.com:8443'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the host belongs to the tunnel: an absolute URL for another port gets 421',
    tunnel: TLS_8443,
    request: get('https://example.com:9999/x', [['Host', 'example.com:8443']]),
    expected: refused(
      421,
      'Misdirected request: this tunnel is for example.com:8443, not example.com:9999'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the host belongs to the tunnel: a Host without a port names the tunnel port',
    tunnel: TLS_8443,
    request: get('/x', [['Host', 'example.com']]),
    expected: translated(
      'https',
      'example.com:8443',
      '/prefix/https://example.com:8443/x',
      'https://example.com:8443/x'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the host belongs to the tunnel: an absolute URL with the default port names the tunnel port',
    tunnel: TLS_8443,
    request: get('https://EXAMPLE.com/x', [['Host', 'example.com:8443']]),
    expected: translated(
      'https',
      'example.com:8443',
      '/prefix/https://example.com:8443/x',
      'https://example.com:8443/x'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the host belongs to the tunnel: an absolute URL naming :80 in a plain tunnel to 8080 gets 421',
    tunnel: PLAIN_8080,
    request: get('http://example.com:80/', [['Host', 'example.com:8080']]),
    expected: refused(
      421,
      'Misdirected request: this tunnel is for example.com:8080, not example.com:80'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the host belongs to the tunnel: a Host naming :80 in a plain tunnel to 8080 gets 421',
    tunnel: PLAIN_8080,
    request: get('/', [['Host', 'example.com:80']]),
    expected: refused(
      421,
      'Misdirected request: this tunnel is for example.com:8080, not example.com:80'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the host belongs to the tunnel: an absolute URL naming :443 in a TLS tunnel to 8443 gets 421',
    tunnel: TLS_8443,
    request: get('https://example.com:443/x'),
    expected: refused(
      421,
      'Misdirected request: this tunnel is for example.com:8443, not example.com:443'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the host belongs to the tunnel: :authority naming :443 in a TLS tunnel to 8443 gets 421',
    tunnel: TLS_8443,
    request: get('/x', [[':authority', 'example.com:443']]),
    expected: refused(
      421,
      'Misdirected request: this tunnel is for example.com:8443, not example.com:443'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the host belongs to the tunnel: an absolute URL naming :443 in a TLS tunnel to 443 is served',
    tunnel: TLS_443,
    request: get('https://example.com:443/x', [['Host', 'example.com']]),
    expected: translated(
      'https',
      'example.com',
      '/prefix/https://example.com/x',
      'https://example.com/x'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the host belongs to the tunnel: an absolute URL naming :80 in a plain tunnel to 80 is served',
    tunnel: PLAIN_80,
    request: get('http://example.com:80/x'),
    expected: translated(
      'http',
      'example.com',
      '/prefix/http://example.com/x',
      'http://example.com/x'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the host belongs to the tunnel: :authority for another host gets 421',
    tunnel: TLS_443,
    request: get('/x', [[':authority', 'other.example']]),
    expected: refused(
      421,
      'Misdirected request: this tunnel is for example.com, not other.example'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the host belongs to the tunnel: a right :authority does not excuse a wrong Host',
    tunnel: TLS_443,
    request: get('/x', [
      [':authority', 'example.com'],
      ['host', 'other.example'],
    ]),
    expected: refused(
      421,
      'Misdirected request: this tunnel is for example.com, not other.example'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the host belongs to the tunnel: another IPv6 address gets 421',
    tunnel: IPV6,
    request: get('/x', [['Host', '[::2]']]),
    expected: refused(421, 'Misdirected request: this tunnel is for ::1, not ::2'),
  },
  {
    rule: SPEC.guarantees,
    name: 'the host belongs to the tunnel: the admitted SNI name is the host',
    tunnel: BY_ADDRESS,
    request: get('/x', [['Host', 'example.com']]),
    expected: translated(
      'https',
      'example.com',
      '/prefix/https://example.com/x',
      'https://example.com/x'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the host belongs to the tunnel: a Host naming the CONNECT address still gets the SNI name',
    tunnel: BY_ADDRESS,
    request: get('/x', [['Host', '93.184.215.14']]),
    expected: translated(
      'https',
      'example.com',
      '/prefix/https://example.com/x',
      'https://example.com/x'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the host belongs to the tunnel: a third name in a tunnel with SNI gets 421',
    tunnel: BY_ADDRESS,
    request: get('/x', [['Host', 'other.example']]),
    expected: refused(
      421,
      'Misdirected request: this tunnel is for example.com, not other.example'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the scheme inside TLS is https whatever :scheme says',
    tunnel: TLS_443,
    request: get('/x', [
      [':scheme', 'http'],
      [':authority', 'example.com'],
    ]),
    expected: translated(
      'https',
      'example.com',
      '/prefix/https://example.com/x',
      'https://example.com/x'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'the scheme inside TLS is https even for an http:// absolute-form target',
    tunnel: TLS_443,
    request: get('http://example.com/x', [['Host', 'example.com']]),
    expected: translated(
      'https',
      'example.com',
      '/prefix/https://example.com/x',
      'https://example.com/x'
    ),
  },
  {
    rule: SPEC.guarantees,
    name: 'host names are validated: a bad Host inside a tunnel gets 400',
    tunnel: TLS_443,
    request: get('/x', [['Host', 'exa mple.com']]),
    expected: refused(400, 'Invalid Host header: "exa mple.com"'),
  },
  {
    rule: SPEC.guarantees,
    name: 'host names are validated: a bad :authority gets 400',
    tunnel: TLS_443,
    request: get('/x', [[':authority', 'a..b']]),
    expected: refused(400, 'Invalid :authority: "a..b"'),
  },
  {
    rule: SPEC.guarantees,
    name: 'host names are validated: a bad Host on a direct request gets 400',
    request: get('/x', [['Host', 'bad_host!']]),
    expected: refused(400, 'Invalid Host header: "bad_host!"'),
  },
  {
    rule: SPEC.guarantees,
    name: 'host names are validated: an absolute URL with user info gets 400',
    request: get('http://user@example.com/'),
    expected: refused(400, 'Invalid absolute URL: "http://user@example.com/"'),
  },
  {
    rule: SPEC.guarantees,
    name: 'host names are validated: an absolute URL with an empty label gets 400',
    request: get('http://exa_mple..com/'),
    expected: refused(400, 'Invalid absolute URL: "http://exa_mple..com/"'),
  },
  {
    rule: SPEC.guarantees,
    name: 'host names are validated: a port out of range gets 400',
    request: get('http://example.com:70000/'),
    expected: refused(400, 'Invalid absolute URL: "http://example.com:70000/"'),
  },
  {
    rule: SPEC.guarantees,
    name: 'a target that is neither a path nor an http(s) URL gets 400',
    request: get('ftp://example.com/'),
    expected: refused(400, 'Invalid request target: "ftp://example.com/"'),
  },
  {
    rule: SPEC.guarantees,
    name: 'a target inside a tunnel that is neither a path nor a URL gets 400',
    tunnel: TLS_443,
    request: get('nopath', [['Host', 'example.com']]),
    expected: refused(400, 'Invalid request target in a tunnel: "nopath"'),
  },
  {
    rule: SPEC.added,
    name: 'a CONNECT inside a tunnel gets 405',
    tunnel: TLS_443,
    request: asked('CONNECT', 'other.example:443', [['Host', 'other.example:443']]),
    expected: refused(405, 'CONNECT inside a tunnel is not supported'),
  },
  {
    rule: SPEC.added,
    name: 'HEAD is admitted as GET is',
    request: asked('HEAD', 'http://example.com/a'),
    expected: translated(
      'http',
      'example.com',
      '/prefix/http://example.com/a',
      'http://example.com/a'
    ),
  },
  {
    rule: SPEC.pac,
    name: 'a direct GET /proxy.pac on the proxy address is the proxy host PAC file',
    request: get('/proxy.pac', [['Host', '127.0.0.1:8080']]),
    expected: routed(PROXY_HOST, 'wsgiprox', '/proxy.pac', 'http://wsgiprox/proxy.pac'),
  },
  {
    rule: SPEC.pac,
    name: 'a direct HEAD /proxy.pac on localhost is the PAC file too',
    request: asked('HEAD', '/proxy.pac?x', [['Host', 'localhost:8080']]),
    expected: routed(PROXY_HOST, 'wsgiprox', '/proxy.pac?x', 'http://wsgiprox/proxy.pac?x'),
  },
  {
    rule: SPEC.pac,
    name: 'a direct /proxy.pac for another port is passthrough',
    request: get('/proxy.pac', [['Host', '127.0.0.1:9090']]),
    expected: { kind: 'passthrough' },
  },
  {
    rule: SPEC.pac,
    name: 'a direct POST /proxy.pac is passthrough',
    request: asked('POST', '/proxy.pac', [['Host', '127.0.0.1:8080']]),
    expected: { kind: 'passthrough' },
  },
]

describe('the admission gate with a FixedResolver', () => {
  it.each(FIXED_ROWS)('$rule: $name', async (row) => {
    const { gate, reported } = testGate(new FixedResolver('/prefix/'))
    expect(await gate.admitRequest(row.tunnel, row.request)).toEqual(row.expected)
    expect(reported).toEqual([])
  })

  it('Protocols and entry points: PAC file: with pac off a direct /proxy.pac is passthrough', async () => {
    const { gate } = testGate(new FixedResolver('/prefix/'), { pac: false })
    const request = get('/proxy.pac', [['Host', '127.0.0.1:8080']])
    expect(await gate.admitRequest(undefined, request)).toEqual({ kind: 'passthrough' })
  })

  it('Resolvers: FixedResolver() puts / before the full URL', async () => {
    const { gate } = testGate(new FixedResolver())
    expect(await gate.admitRequest(undefined, get('http://example.com/a'))).toEqual(
      translated('http', 'example.com', '/http://example.com/a', 'http://example.com/a')
    )
  })
})
