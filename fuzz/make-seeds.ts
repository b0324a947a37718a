/**
 * Writes the seed corpora in fuzz/corpus/: real CONNECT lines and request heads, SOCKS5
 * messages, PROXY headers as load balancers send them, and CA files made by the project's own CA
 * code. The seeds are committed; run this again (npx tsx fuzz/make-seeds.ts) only to change them.
 */
import { createPrivateKey } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CertificateAuthority } from '../src/ca/authority'

const CORPUS = join(import.meta.dirname, 'corpus')
const crlf = (...lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`
const basic = (user: string) => `Basic ${Buffer.from(`${user}:pw`).toString('base64')}`
const bytes = (...parts: (number[] | string)[]) =>
  Buffer.concat(parts.map((part) => Buffer.from(part as string, 'latin1')))
const V2 = '\r\n\r\n\0\r\nQUIT\n'
const u16 = (n: number) => [n >> 8, n & 0xff]

/** A server_name extension (RFC 6066 §3) naming `name` (Latin-1: a byte per character). */
const sniExtension = (name: string) =>
  bytes([0, 0], u16(name.length + 5), u16(name.length + 3), [0], u16(name.length), name)
/** A TLS 1.2 ClientHello record: no session id, one cipher suite, then `extensions`. */
function clientHello(...extensions: Buffer[]): Buffer {
  const all = Buffer.concat(extensions)
  const body = bytes(
    [3, 3, ...Array<number>(32).fill(7), 0],
    u16(2),
    [0x13, 1, 1, 0],
    u16(all.length)
  )
  const hello = Buffer.concat([body, all])
  const message = Buffer.concat([bytes([1, 0], u16(hello.length)), hello])
  return Buffer.concat([bytes([0x16, 3, 1], u16(message.length)), message])
}

const REQUESTS: Record<string, string> = {
  'absolute-get': crlf(
    'GET http://example.com/a/b?c=d HTTP/1.1',
    'Host: example.com',
    `Proxy-Authorization: ${basic('alice')}`,
    'Proxy-Connection: keep-alive',
    'X-Wsgiprox-Proxy-Host: forged',
    'Accept: */*'
  ),
  'absolute-dot-segments': crlf(
    'GET http://example.com/%2e%2e/../x/./y HTTP/1.1',
    'Host: example.com'
  ),
  'absolute-dot-after-dotted': crlf(
    'GET http://example.com/a/.b/../../x HTTP/1.1',
    'Host: example.com'
  ),
  'absolute-ipv6-port': crlf('GET http://[::1]:8080/\\a\\..\\b HTTP/1.1', 'Host: [::1]:8080'),
  'absolute-proxy-host': crlf('GET http://wsgiprox/download/pem HTTP/1.1', 'Host: wsgiprox'),
  'origin-form': crlf('GET /index.html HTTP/1.1', 'Host: 127.0.0.1:8080'),
  'pac-direct': crlf('GET /proxy.pac HTTP/1.1', 'Host: 127.0.0.1:8080'),
  connect: crlf(
    'CONNECT example.com:443 HTTP/1.1',
    'Host: example.com:443',
    `Proxy-Authorization: ${basic('bob')}`
  ),
  'connect-idn': crlf('CONNECT bücher.de:443 HTTP/1.1', 'Host: bücher.de:443'),
  'in-tunnel-other-host': crlf(
    'GET https://other.example/x HTTP/1.1',
    'Host: other.example',
    `Proxy-Authorization: ${basic('mallory')}`
  ),
  'in-tunnel-two-hosts': crlf('GET /x HTTP/1.1', 'Host: example.com', 'host: other.example'),
  http2: crlf(
    'GET /a HTTP/2',
    ':authority: example.com',
    ':scheme: https',
    ':path: /a',
    'proxy-authorization: x'
  ),
  'http10-no-host': crlf('GET http://example.com/ HTTP/1.0'),
  websocket: crlf(
    'GET http://example.com/ws HTTP/1.1',
    'Host: example.com',
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    'PROXY-AUTHORIZATION: Basic eDp5'
  ),
}

const SEEDS: Record<string, Record<string, string | Buffer>> = {
  host: {
    dns: 'example.com',
    'upper-trailing-dot': 'Example.COM.',
    idn: 'bücher.de',
    punycode: 'xn--bcher-kva.de',
    underscore: 'my_host.example.com',
    'ipv4-short': '127.1',
    'ipv4-hex': '0x7f.0.0.1',
    ipv6: '[::1]',
    'ipv6-mapped': '::ffff:192.0.2.1',
    'ipv6-zone': '[fe80::1%eth0]',
    path: 'a.com/evil',
    fullwidth: 'ＥＸＡＭＰＬＥ。com',
    'maps-to-dot': 'a⒈com',
    'empty-label': 'a..b',
    'long-label': `${'a'.repeat(64)}.com`,
    'long-name': `${'abcdefghi.'.repeat(25)}com`,
    wildcard: '*.example.com',
  },
  target: {
    connect: 'example.com:443',
    'connect-ipv6': '[::1]:8443',
    'connect-idn': 'bücher.de:443',
    'connect-port-range': 'example.com:65536',
    'connect-no-port': 'example.com',
    absolute: 'http://example.com/a/../b?c',
    'absolute-encoded-dots': 'HTTPS://EXAMPLE.com:443/%2e%2E/x',
    'absolute-no-path': 'http://example.com',
    'absolute-dot-after-dotted': 'http://example.com/a/.b/./../../x/.',
    'absolute-backslash': 'http://[::1]:8080/\\a\\..\\b',
    'absolute-userinfo': 'http://user@a.com/',
    'absolute-query': 'http://a.com/?q=/../#f',
    'absolute-latin1': 'http://a.com/\xe4 b\x7f',
  },
  socks5: {
    'greeting-none': bytes([5, 1, 0]),
    'greeting-password': bytes([5, 2, 0, 2]),
    credentials: bytes([1, 5], 'alice', [2], 'pw'),
    'request-ipv4': bytes([5, 1, 0, 1, 93, 184, 216, 34], u16(443)),
    'request-ipv6': bytes(
      [5, 1, 0, 4, 0x20, 1, 0x0d, 0xb8, ...Array<number>(11).fill(0), 1],
      u16(8443)
    ),
    'request-name': bytes([5, 1, 0, 3, 11], 'example.com', u16(443)),
    'request-ipv6-as-name': bytes([5, 1, 0, 3, 3], '::1', u16(80)),
    'request-bind': bytes([5, 2, 0, 1, 127, 0, 0, 1], u16(80)),
    'request-bad-type': bytes([5, 1, 0, 5, 0, 0]),
  },
  'client-hello': {
    'sni-example': clientHello(sniExtension('example.com')),
    'sni-after-another': clientHello(bytes([0, 0x17, 0, 0]), sniExtension('a.example.com')),
    'no-sni': clientHello(bytes([0, 0x17, 0, 0])),
    'sni-utf8': clientHello(sniExtension('b\xc3\xbccher.de')),
  },
  'proxy-protocol': {
    'v1-tcp4': 'PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET / HTTP/1.1\r\n',
    'v1-tcp6': 'PROXY TCP6 2001:db8::1 ::ffff:198.51.100.2 56324 8080\r\n',
    'v1-unknown': 'PROXY UNKNOWN ff:: 1:: 1 2\r\n',
    'v2-tcp4': bytes(V2, [0x21, 0x11, 0, 12, 192, 0, 2, 1, 198, 51, 100, 2], u16(56324), u16(443)),
    'v2-tcp6-authority': bytes(
      V2,
      [0x21, 0x21, 0, 36 + 14, 0x20, 1, 0x0d, 0xb8, ...Array<number>(11).fill(0), 1],
      [...Array<number>(10).fill(0), 0xff, 0xff, 198, 51, 100, 2],
      u16(56324),
      u16(443),
      [0x02, 0, 11],
      'example.com'
    ),
    'v2-local': bytes(V2, [0x20, 0x00, 0, 0]),
    'v2-unix': bytes(V2, [0x21, 0x31], u16(216), Array<number>(216).fill(0x61)),
    'v2-dgram': bytes(V2, [0x21, 0x12, 0, 12, 10, 0, 0, 1, 10, 0, 0, 2, 0, 53, 0, 53]),
  },
  rewrite: REQUESTS,
  admission: REQUESTS,
  pac: {
    list: 'www.example.com\n*.example.com\nexample.org',
    wildcards: 'a.b\n?.b\n*',
    ipv6: '[::1]\n[::1]\n127.0.0.*',
    quote: 'a"b\na"b',
    // Found by the pac target: stars by the dozen made its shExpMatch (a regular expression, as
    // in browsers) take seconds. Runs of stars now count once, and a pattern holds at most three.
    'many-stars': `${'*'.repeat(16)}\nb\n.\n.\n${'*'.repeat(78)}.`,
  },
}

async function caFiles(): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), 'wsgiprox-seeds-'))
  try {
    await CertificateAuthority.open({ file: join(dir, 'a.pem'), name: 'seed CA' })
    await CertificateAuthority.open({ file: join(dir, 'b.pem'), name: 'other seed CA' })
    const a = await readFile(join(dir, 'a.pem'), 'utf8')
    const b = await readFile(join(dir, 'b.pem'), 'utf8')
    const [keyA = '', certA = ''] = a.split(/(?=-----BEGIN CERTIFICATE-----)/)
    const [, certB = ''] = b.split(/(?=-----BEGIN CERTIFICATE-----)/)
    // An RSA CA file as Python certauth writes it (a PKCS#1 key): the CA makes ECDSA keys now, so
    // the one made when RSA was the default stays as it was.
    const certauth = await readFile(join(CORPUS, 'ca-pem', 'certauth-pkcs1'), 'utf8')
    const encrypted = createPrivateKey(keyA)
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' })
      .toString()
    const leaf = await (await CertificateAuthority.open({ file: null })).issue('example.com')
    return {
      created: a,
      'certauth-pkcs1': certauth,
      'cert-first': certA + keyA,
      mismatch: keyA + certB,
      'encrypted-key': encrypted + certA,
      'leaf-not-ca': leaf.keyPem + leaf.certPem,
      'no-key': certA,
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

SEEDS['ca-pem'] = await caFiles()
for (const [target, seeds] of Object.entries(SEEDS)) {
  const dir = join(CORPUS, target)
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  for (const [name, seed] of Object.entries(seeds)) {
    await writeFile(join(dir, name), typeof seed === 'string' ? Buffer.from(seed, 'utf8') : seed)
  }
}
