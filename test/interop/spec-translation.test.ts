/**
 * SPEC "Translation: what the app sees", one row per way a request arrives, sent by Python's
 * socket and ssl modules as a black-box client would: the path the app gets, its
 * `X-Wsgiprox-Proxy-Host`, and the headers it never sees (`Proxy-Authorization`,
 * `Proxy-Connection`, a forged `X-Wsgiprox-Proxy-Host`).
 */
import { Hono } from 'hono'
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { echoApp } from '../helpers/apps'
import type { Echo } from '../helpers/apps'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'
import { missing, toolPath } from '../helpers/tools'

/** Each row: how the request is sent, then the request line's target and its Host. */
const SCRIPT = String.raw`
import json, os, socket, ssl, struct
port = int(os.environ['PORT'])
extra = (b'Proxy-Connection: keep-alive\r\nProxy-Authorization: Basic Ym9iOnB3\r\n'
         b'X-Wsgiprox-Proxy-Host: forged\r\nConnection: close\r\n\r\n')

def tcp():
    return socket.create_connection(('127.0.0.1', port), timeout=5)

def connect(target):
    s = tcp()
    s.sendall(('CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n' % (target, target)).encode())
    assert s.recv(100).startswith(b'HTTP/1.1 200 Connection Established\r\n')
    return s

def socks(host, dport):
    s = tcp()
    s.sendall(b'\x05\x01\x00')
    assert s.recv(2) == b'\x05\x00'
    s.sendall(b'\x05\x01\x00\x03' + bytes([len(host)]) + host.encode() + struct.pack('>H', dport))
    assert s.recv(10)[1] == 0
    return s

def tls(s, name):
    context = ssl.create_default_context(cafile=os.environ['CA'])
    context.set_alpn_protocols(['http/1.1'])
    return context.wrap_socket(s, server_hostname=name)

def ask(s, target, host):
    s.sendall(('GET %s HTTP/1.1\r\nHost: %s\r\n' % (target, host)).encode() + extra)
    data = b''
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return json.loads(data.split(b'\r\n\r\n', 1)[1])
        data += chunk

own = '127.0.0.1:%d' % port
print(json.dumps({
    'absolute-form': ask(tcp(), 'http://example.com:8000/a?b', 'example.com:8000'),
    'plain CONNECT tunnel': ask(connect('example.com:8080'), '/a?b', 'example.com:8080'),
    'TLS CONNECT tunnel': ask(tls(connect('example.com:443'), 'example.com'), '/a?b', 'example.com'),
    'TLS on port 123': ask(tls(connect('example.com:123'), 'example.com'), '/a?b', 'example.com:123'),
    'SNI beats the CONNECT address': ask(tls(connect('127.0.0.9:443'), 'sni.example.org'), '/a?b', 'sni.example.org'),
    'plain SOCKS5 tunnel': ask(socks('example.com', 80), '/a?b', 'example.com'),
    'TLS SOCKS5 tunnel': ask(tls(socks('example.com', 443), 'example.com'), '/a?b', 'example.com'),
    'proxy host': ask(tcp(), 'http://wsgiprox/a?b', 'wsgiprox'),
    'proxy host over TLS': ask(tls(connect('wsgiprox:443'), 'wsgiprox'), '/a?b', 'wsgiprox'),
    'alias': ask(tcp(), 'http://proxy-alias/a?b', 'proxy-alias'),
    'proxy app': ask(tcp(), 'http://proxy-app-1/sub/a?b', 'proxy-app-1'),
    'proxy app falling through': ask(tcp(), 'http://proxy-app-1/a?b', 'proxy-app-1'),
    'passthrough': ask(tcp(), '/a?b', own),
}))
`

let running: RunningProxy
let seen: Record<string, Echo & { app: string }>
beforeAll(async () => {
  if (missing('python3')) {
    return
  }
  const sub = new Hono()
  sub.route('/sub', echoApp('sub'))
  running = await startProxy(echoApp(), {
    prefix: '/prefix/',
    proxyApps: { 'proxy-app-1': sub, 'proxy-alias': null },
  })
  const caFile = join(mkdtempSync(join(tmpdir(), 'wsgiprox-spec-translation-')), 'ca.pem')
  writeFileSync(caFile, running.caPem)
  const { stdout } = await promisify(execFile)(toolPath('python3'), ['-c', SCRIPT], {
    env: { ...process.env, PORT: String(running.port), CA: caFile },
  })
  seen = JSON.parse(stdout) as typeof seen
})
afterAll(async () => {
  if (!missing('python3')) {
    await running.close()
  }
})

describe.skipIf(missing('python3'))('what the app sees, by way in', () => {
  it.each([
    ['absolute-form', 'main', '/prefix/http://example.com:8000/a?b', 'wsgiprox'],
    ['plain CONNECT tunnel', 'main', '/prefix/http://example.com:8080/a?b', 'wsgiprox'],
    ['TLS CONNECT tunnel', 'main', '/prefix/https://example.com/a?b', 'wsgiprox'],
    ['TLS on port 123', 'main', '/prefix/https://example.com:123/a?b', 'wsgiprox'],
    ['SNI beats the CONNECT address', 'main', '/prefix/https://sni.example.org/a?b', 'wsgiprox'],
    ['plain SOCKS5 tunnel', 'main', '/prefix/http://example.com/a?b', 'wsgiprox'],
    ['TLS SOCKS5 tunnel', 'main', '/prefix/https://example.com/a?b', 'wsgiprox'],
    ['proxy host', 'main', '/a?b', 'wsgiprox'],
    ['proxy host over TLS', 'main', '/a?b', 'wsgiprox'],
    ['alias', 'main', '/a?b', 'proxy-alias'],
    ['proxy app', 'sub', '/sub/a?b', 'proxy-app-1'],
    ['proxy app falling through', 'main', '/a?b', 'proxy-app-1'],
    ['passthrough', 'main', '/a?b', null],
  ])('%s: the %s app gets %s with proxy host %s', (way, app, path, proxyHost) => {
    const echo = seen[way]
    expect(echo).toMatchObject({ app, path, proxyHost })
    expect(echo?.headers).not.toHaveProperty('proxy-connection')
    expect(echo?.headers).not.toHaveProperty('proxy-authorization')
  })
})
