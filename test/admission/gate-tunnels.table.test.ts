/**
 * The admission gate on tunnels: the CONNECT (or SOCKS5) target and its credentials, the SOCKS5
 * greeting, and the SNI name of the TLS handshake inside. One row per rule of SPEC.md's
 * "Admission: the guarantees" and "Resolvers", and the 2026-12-04 nested CONNECT. No sockets.
 */
import type { TunnelAdmission, TunnelIdentity } from '../../src/admission/decision'
import { FixedResolver, ProxyAuthResolver } from '../../src/admission/resolvers'
import type { Resolver } from '../../src/types'
import { ASK, ME, REALM, refused, SPEC, testGate, TLS_443, tunnel } from '../helpers/gate'

/** A CONNECT (or SOCKS5) target, the credentials it came with, and the decision on the tunnel. */
const CONNECT_ROWS: [
  string,
  string,
  Resolver,
  TunnelIdentity | undefined,
  string,
  string | undefined,
  TunnelAdmission,
][] = [
  [
    SPEC.translation,
    'a CONNECT host:port opens a tunnel',
    new FixedResolver(),
    undefined,
    'example.com:443',
    undefined,
    { kind: 'open', host: 'example.com', port: 443 },
  ],
  [
    SPEC.guarantees,
    'the CONNECT host is normalised',
    new FixedResolver(),
    undefined,
    'Example.COM.:8443',
    undefined,
    { kind: 'open', host: 'example.com', port: 8443 },
  ],
  [
    SPEC.guarantees,
    'an IPv6 CONNECT target loses its brackets',
    new FixedResolver(),
    undefined,
    '[0::1]:443',
    undefined,
    { kind: 'open', host: '::1', port: 443 },
  ],
  [
    SPEC.guarantees,
    'an IPv4 CONNECT target opens a tunnel',
    new FixedResolver(),
    undefined,
    '127.0.0.1:80',
    undefined,
    { kind: 'open', host: '127.0.0.1', port: 80 },
  ],
  [
    SPEC.guarantees,
    'a CONNECT target without a port gets 400',
    new FixedResolver(),
    undefined,
    'example.com',
    undefined,
    refused(400, 'Invalid CONNECT target: "example.com"'),
  ],
  [
    SPEC.guarantees,
    'a CONNECT to port 0 gets 400',
    new FixedResolver(),
    undefined,
    'example.com:0',
    undefined,
    refused(400, 'Invalid CONNECT target: "example.com:0"'),
  ],
  [
    SPEC.guarantees,
    'a CONNECT without a host gets 400',
    new FixedResolver(),
    undefined,
    ':443',
    undefined,
    refused(400, 'Invalid CONNECT target: ":443"'),
  ],
  [
    SPEC.guarantees,
    'a CONNECT host with a space gets 400',
    new FixedResolver(),
    undefined,
    'a b:443',
    undefined,
    refused(400, 'Invalid CONNECT target: "a b:443"'),
  ],
  [
    SPEC.guarantees,
    'a CONNECT host with user info gets 400',
    new FixedResolver(),
    undefined,
    'user@example.com:443',
    undefined,
    refused(400, 'Invalid CONNECT target: "user@example.com:443"'),
  ],
  [
    SPEC.guarantees,
    'a bracketed CONNECT host that is not IPv6 gets 400',
    new FixedResolver(),
    undefined,
    '[not-ipv6]:443',
    undefined,
    refused(400, 'Invalid CONNECT target: "[not-ipv6]:443"'),
  ],
  [
    SPEC.guarantees,
    'an unbracketed IPv6 CONNECT target gets 400',
    new FixedResolver(),
    undefined,
    '::1:443',
    undefined,
    refused(400, 'Invalid CONNECT target: "::1:443"'),
  ],
  [
    SPEC.added,
    'a CONNECT inside a tunnel gets 405',
    new FixedResolver(),
    TLS_443,
    'example.com:443',
    undefined,
    refused(405, 'CONNECT inside a tunnel is not supported'),
  ],
  [
    SPEC.added,
    'a CONNECT inside a tunnel gets 405 whatever its credentials',
    new ProxyAuthResolver(REALM),
    tunnel('example.com', 443, { authorization: ME }),
    'other.example:443',
    ME,
    refused(405, 'CONNECT inside a tunnel is not supported'),
  ],
  [
    SPEC.resolvers,
    'a CONNECT without credentials is challenged before the tunnel',
    new ProxyAuthResolver(REALM),
    undefined,
    'example.com:443',
    undefined,
    ASK,
  ],
  [
    SPEC.resolvers,
    'a CONNECT with credentials opens the tunnel',
    new ProxyAuthResolver(REALM),
    undefined,
    'example.com:443',
    ME,
    { kind: 'open', host: 'example.com', port: 443 },
  ],
  [
    SPEC.resolvers,
    'a bad CONNECT target gets 400 before any login',
    new ProxyAuthResolver(REALM),
    undefined,
    'nope',
    undefined,
    refused(400, 'Invalid CONNECT target: "nope"'),
  ],
]

describe('the admission gate on tunnels', () => {
  it.each(CONNECT_ROWS)(
    '%s: %s',
    async (_rule, _name, resolver, inside, target, auth, expected) => {
      const { gate, reported } = testGate(resolver)
      expect(await gate.admitTunnel(inside, target, auth)).toEqual(expected)
      expect(reported).toEqual([])
    }
  )

  it('Resolvers: requireAuth sees a CONNECT as a GET of the https origin with its credentials', async () => {
    const seen: string[] = []
    const resolver: Resolver = {
      requireAuth: (request) => {
        seen.push(`${request.method} ${request.url} ${request.headers.get('proxy-authorization')}`)
        return undefined
      },
      resolve: () => '/ok',
    }
    const { gate } = testGate(resolver)
    await gate.admitTunnel(undefined, 'example.com:8443', ME)
    await gate.admitTunnel(undefined, 'example.com:443', undefined)
    expect(seen).toEqual([`GET https://example.com:8443/ ${ME}`, 'GET https://example.com/ null'])
  })

  it.each([
    [
      'with no login to ask for, a SOCKS5 greeting without credentials is let on',
      new FixedResolver(),
      undefined,
    ],
    [
      'a SOCKS5 greeting without credentials is challenged when requireAuth asks',
      new ProxyAuthResolver(REALM),
      ASK,
    ],
  ])('Resolvers: %s', async (_name, resolver, expected) => {
    const { gate } = testGate(resolver)
    expect(await gate.admitAnonymous()).toEqual(expected)
  })
})

/** A TLS handshake's SNI name inside a tunnel, and the name the tunnel's requests are for. */
const SNI_ROWS: [string, Resolver, TunnelIdentity, string, string | RegExp][] = [
  ['the CONNECT host as SNI', new FixedResolver(), TLS_443, 'example.com', 'example.com'],
  ['an SNI name is normalised', new FixedResolver(), TLS_443, 'EXAMPLE.com.', 'example.com'],
  [
    'the SNI name wins over a CONNECT address',
    new FixedResolver(),
    tunnel('93.184.215.14', 443),
    'example.com',
    'example.com',
  ],
  [
    'the SNI name is admitted with the tunnel credentials',
    new ProxyAuthResolver(REALM),
    tunnel('93.184.215.14', 443, { authorization: ME }),
    'example.com',
    'example.com',
  ],
  [
    'an invalid SNI name refuses the handshake',
    new FixedResolver(),
    TLS_443,
    'bad_name!.example',
    /^Invalid SNI name "bad_name!\.example"$/,
  ],
  [
    'another SNI name a tunnel without credentials may not use refuses the handshake',
    new ProxyAuthResolver(REALM),
    tunnel('93.184.215.14', 443),
    'example.com',
    /^SNI name example\.com is not admitted for the tunnel to 93\.184\.215\.14: it asks for other credentials$/,
  ],
  [
    'a requireAuth that fails refuses the handshake',
    {
      requireAuth: () => {
        throw new Error('x')
      },
      resolve: () => '/',
    },
    tunnel('93.184.215.14', 443),
    'example.com',
    /: The proxy could not admit this request: requireAuth failed$/,
  ],
]

describe('the admission gate on SNI names', () => {
  it.each(SNI_ROWS)(
    'Admission: the host belongs to the tunnel: %s',
    async (_name, resolver, inside, servername, expected) => {
      const { gate } = testGate(resolver)
      const admitted = gate.admitName(inside, servername)
      if (typeof expected === 'string') {
        expect(await admitted).toBe(expected)
      } else {
        await expect(admitted).rejects.toThrow(expected)
      }
    }
  )
})
