import { createHash } from 'node:crypto'
import { parseProxyHeader, V2_MAX_LENGTH, V2_SIGNATURE } from '../src/inbound/proxy-protocol'
import type { ProxyHeaderResult } from '../src/inbound/proxy-protocol'
import { authorityTlv, inet, inet6, v2Header } from './helpers/proxy-protocol'

const text = (value: string) => Buffer.from(value, 'latin1')

const header = (result: ProxyHeaderResult) => {
  if (result.kind !== 'header') {
    throw new Error(`expected a header, got ${JSON.stringify(result)}`)
  }
  return result.header
}

describe('PROXY protocol v1', () => {
  it.each([
    [
      'PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n',
      { family: 'IPv4', source: { address: '192.0.2.10', port: 56324 } },
      { address: '198.51.100.1', port: 443 },
    ],
    [
      'PROXY TCP6 2001:db8::1 2001:db8::2 65535 0\r\n',
      { family: 'IPv6', source: { address: '2001:db8::1', port: 65535 } },
      { address: '2001:db8::2', port: 0 },
    ],
  ])('reads %j', (line, expected, destination) => {
    const result = header(parseProxyHeader(text(line)))
    expect(result).toEqual({
      version: 1,
      length: line.length,
      addresses: { ...expected, destination },
    })
  })

  it.each(['PROXY UNKNOWN\r\n', 'PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n'])(
    'keeps the connection’s own addresses for %j',
    (line) => {
      expect(header(parseProxyHeader(text(line)))).toEqual({
        version: 1,
        length: line.length,
        addresses: undefined,
      })
    }
  )

  it('ends at the CRLF: bytes pipelined behind it are not part of it', () => {
    const line = 'PROXY TCP4 192.0.2.10 198.51.100.1 1 2\r\n'
    const result = header(parseProxyHeader(text(`${line}GET / HTTP/1.1\r\n\r\n`)))
    expect(result.length).toBe(line.length)
  })

  it.each(['P', 'PROXY', 'PROXY ', 'PROXY TCP4 192.0.2.10', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r'])(
    'waits for more after %j',
    (partial) => {
      expect(parseProxyHeader(text(partial))).toMatchObject({ kind: 'incomplete' })
    }
  )

  it.each([
    ['PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n', /TCP4, TCP6 or UNKNOWN/],
    ['PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n', /not IPv4 addresses/],
    ['PROXY TCP4 ::1 ::2 1 2\r\n', /not IPv4 addresses/],
    ['PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n', /not IPv6 addresses/],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n', /ports/],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n', /ports/],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n', /ports/],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n', /must be PROXY TCP4/],
    ['PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n', /must be PROXY TCP4/],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n', /CRLF/],
    [`PROXY UNKNOWN ${'x'.repeat(100)}`, /longer than 107 bytes/],
    ['proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n', /no PROXY protocol header/],
    ['GET / HTTP/1.1\r\nHost: a\r\n\r\n', /no PROXY protocol header/],
    ['\x16\x03\x01\x02\x00', /no PROXY protocol header/],
  ])('refuses %j', (bytes, reason) => {
    const result = parseProxyHeader(text(bytes))
    expect(result.kind).toBe('invalid')
    expect(result.kind === 'invalid' && result.reason).toMatch(reason)
  })
})

describe('PROXY protocol v2', () => {
  it('reads PROXY over TCP/IPv4', () => {
    const bytes = v2Header(0x21, 0x11, inet([192, 0, 2, 10], [198, 51, 100, 1], [56324, 443]))
    expect(header(parseProxyHeader(bytes))).toEqual({
      version: 2,
      length: 28,
      addresses: {
        family: 'IPv4',
        source: { address: '192.0.2.10', port: 56324 },
        destination: { address: '198.51.100.1', port: 443 },
      },
    })
  })

  it.each([
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['00000000000000000000ffffc000020a', '::ffff:192.0.2.10'],
    ['00000000000000000000000000000001', '::1'],
    ['20010db8000100000001000000000001', '2001:db8:1:0:1::1'],
  ])('reads PROXY over TCP/IPv6 from %s as %s', (hex, address) => {
    const bytes = v2Header(0x21, 0x21, inet6(hex, '20010db8000000000000000000000002', [1, 2]))
    expect(header(parseProxyHeader(bytes)).addresses).toEqual({
      family: 'IPv6',
      source: { address, port: 1 },
      destination: { address: '2001:db8::2', port: 2 },
    })
  })

  it('skips the TLVs after the addresses, and stops at the length', () => {
    const body = Buffer.concat([inet([10, 0, 0, 1], [10, 0, 0, 2], [1, 2]), authorityTlv('a.b')])
    const bytes = Buffer.concat([v2Header(0x21, 0x11, body), text('GET / HTTP/1.1\r\n')])
    const result = header(parseProxyHeader(bytes))
    expect(result.length).toBe(16 + body.length)
    expect(result.addresses?.source).toEqual({ address: '10.0.0.1', port: 1 })
  })

  it.each([
    ['LOCAL (health checks)', v2Header(0x20, 0x00, [])],
    ['LOCAL with addresses', v2Header(0x20, 0x11, inet([1, 1, 1, 1], [2, 2, 2, 2], [1, 2]))],
    ['PROXY with an unspecified family', v2Header(0x21, 0x00, [])],
    ['PROXY over a UNIX socket', v2Header(0x21, 0x31, Buffer.alloc(216))],
  ])('keeps the connection’s own addresses for %s', (_name, bytes) => {
    expect(header(parseProxyHeader(bytes)).addresses).toBeUndefined()
  })

  it.each([
    ['part of the signature', V2_SIGNATURE.subarray(0, 7)],
    ['the signature alone', V2_SIGNATURE],
    ['15 of the 16 fixed bytes', v2Header(0x21, 0x11, []).subarray(0, 15)],
    ['an address block cut short', v2Header(0x21, 0x11, [1, 2, 3], 12)],
  ])('waits for more after %s', (_name, bytes) => {
    expect(parseProxyHeader(bytes)).toMatchObject({ kind: 'incomplete' })
  })

  it('asks for the whole header once its length is in', () => {
    const bytes = v2Header(0x21, 0x11, Buffer.alloc(300))
    expect(parseProxyHeader(bytes.subarray(0, 20))).toEqual({ kind: 'incomplete', needed: 316 })
  })

  it.each([
    ['version 1 in the v2 format', v2Header(0x11, 0x11, []), /not LOCAL or PROXY/],
    ['an undefined command', v2Header(0x22, 0x11, []), /not LOCAL or PROXY/],
    ['a wrong command, before the length is in', v2Header(0x2f, 0x11, []).subarray(0, 13), /0x2f/],
    ['an undefined family', v2Header(0x21, 0x41, Buffer.alloc(12)), /not defined/],
    ['an undefined transport', v2Header(0x21, 0x13, Buffer.alloc(12)), /not defined/],
    ['a datagram', v2Header(0x21, 0x12, Buffer.alloc(12)), /datagram/],
    ['IPv4 with too short a length', v2Header(0x21, 0x11, Buffer.alloc(8)), /shorter/],
    ['IPv6 with too short a length', v2Header(0x21, 0x21, Buffer.alloc(12)), /shorter/],
    ['UNIX with too short a length', v2Header(0x21, 0x31, Buffer.alloc(12)), /shorter/],
  ])('refuses %s', (_name, bytes, reason) => {
    const result = parseProxyHeader(bytes)
    expect(result.kind).toBe('invalid')
    expect(result.kind === 'invalid' && result.reason).toMatch(reason)
  })
})

describe('PROXY protocol parser on mutated headers', () => {
  /** Deterministic noise, the SHA-256 of a counter: every run tests the same inputs. */
  const noise = (i: number) => createHash('sha256').update(`pp-${i}`).digest()
  const valid = [
    text('PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\nGET / HTTP/1.1\r\n\r\n'),
    text('PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n'),
    text('PROXY UNKNOWN\r\n'),
    v2Header(
      0x21,
      0x11,
      Buffer.concat([inet([1, 2, 3, 4], [5, 6, 7, 8], [1, 2]), authorityTlv('a')])
    ),
    v2Header(0x21, 0x21, inet6('00'.repeat(16), 'ff'.repeat(16), [3, 4])),
    v2Header(0x20, 0x00, []),
  ]

  it('answers every mutation with a verdict it can keep: never a throw, never an endless wait', () => {
    for (let i = 0; i < 3_000; i++) {
      const n = noise(i)
      const base = valid[i % valid.length] ?? Buffer.alloc(0)
      const at = n.readUInt16BE(0) % (base.length + 1)
      const [op, byte] = [n.readUInt8(2) % 3, n.readUInt8(3)]
      const head = base.subarray(0, at)
      const bytes =
        op === 0
          ? head
          : op === 1
            ? Buffer.concat([head, Buffer.of(byte), base.subarray(at + 1)])
            : Buffer.concat([head, n.subarray(4, 4 + (byte % 28)), base.subarray(at)])
      const result = parseProxyHeader(bytes)
      if (result.kind === 'incomplete') {
        expect(result.needed).toBeGreaterThan(bytes.length)
        expect(result.needed).toBeLessThanOrEqual(V2_MAX_LENGTH)
      } else if (result.kind === 'header') {
        expect(result.header.length).toBeLessThanOrEqual(bytes.length)
      }
    }
  })
})

describe('PROXY protocol v1 addresses', () => {
  // Found by the proxy-protocol fuzz target: isIPv6 takes a zone identifier (`%eth0`, or any
  // of letters, digits, '.', '-' and ':'), which no balancer sends and no peer address holds.
  it.each([
    'PROXY TCP6 2001:db8::1 fe80::1%eth0 56324 443\r\n',
    'PROXY TCP6 ::ffff:1%98.51.100.2 2001:db8::2 56324 443\r\n',
  ])('refuses an IPv6 address with a zone identifier in %j', (line) => {
    expect(parseProxyHeader(text(line)).kind).toBe('invalid')
  })
})
