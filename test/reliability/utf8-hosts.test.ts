import { X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { connect as http2Connect } from 'node:http2'
import { connect as tlsConnect } from 'node:tls'
import { echoApp } from '../helpers/apps'
import type { Echo } from '../helpers/apps'
import { connectTunnel, readHead, requestOver } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'
import { socksConnect } from '../helpers/socks'

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

/** `bücher.de` as its UTF-8 bytes, one Latin-1 character each: what a raw client sends. */
const UTF8_NAME = Buffer.from('bücher.de').toString('latin1')
const PUNYCODE = 'xn--bcher-kva.de'

async function start(): Promise<RunningProxy> {
  running = await startProxy(echoApp(), { prefix: '/p/' })
  return running
}

describe('raw UTF-8 host names', () => {
  it('reads a UTF-8 Host header inside a tunnel as the UTF-8 name it is', async () => {
    const proxy = await start()
    const { socket } = await connectTunnel(proxy.port, `${PUNYCODE}:80`)
    socket.write(
      Buffer.from(`GET /a HTTP/1.1\r\nHost: ${UTF8_NAME}\r\nConnection: close\r\n\r\n`, 'latin1')
    )
    const head = await readHead(socket)
    expect(head).toMatch(/^HTTP\/1\.1 200 /)
    const chunks: Buffer[] = []
    for await (const chunk of socket) {
      chunks.push(chunk as Buffer)
    }
    const echo = JSON.parse(Buffer.concat(chunks).toString()) as Echo
    expect(echo.path).toBe(`/p/http://${PUNYCODE}/a`)
  })

  it('reads a UTF-8 SOCKS5 domain name as the UTF-8 name it is', async () => {
    const proxy = await start()
    const { socket, reply } = await socksConnect(proxy.port, UTF8_NAME, 80)
    expect(reply).toBe(0)
    const answer = await requestOver(socket, '/a', { host: PUNYCODE })
    socket.destroy()
    expect(answer.status).toBe(200)
    expect((JSON.parse(answer.body) as Echo).path).toBe(`/p/http://${PUNYCODE}/a`)
  })

  it('refuses a Host whose bytes are not UTF-8', async () => {
    const proxy = await start()
    const { socket } = await connectTunnel(proxy.port, `${PUNYCODE}:80`)
    socket.write(Buffer.from('GET /a HTTP/1.1\r\nHost: b\xfccher.de\r\n\r\n', 'latin1'))
    expect(await readHead(socket)).toMatch(/^HTTP\/1\.1 400 /)
    socket.destroy()
  })

  it('issues the certificate of the punycode name for a UTF-8 SNI name', async () => {
    const proxy = await start()
    const { socket } = await connectTunnel(proxy.port, '127.0.0.1:443')
    // Node's TLS client sends the name as UTF-8 bytes.
    const tls = tlsConnect({
      socket,
      servername: 'bücher.de',
      ca: proxy.caPem,
      checkServerIdentity: () => undefined,
    })
    await once(tls, 'secureConnect')
    const cert = new X509Certificate(tls.getPeerX509Certificate()?.raw ?? Buffer.alloc(0))
    expect(cert.subjectAltName).toContain(`DNS:${PUNYCODE}`)
    expect(cert.checkHost(PUNYCODE)).toBe(PUNYCODE)
    tls.destroy()
  })

  it('serves HTTP/2 under a UTF-8 SNI name, where nghttp2 refuses a raw UTF-8 :authority', async () => {
    const proxy = await start()
    const { socket } = await connectTunnel(proxy.port, `${PUNYCODE}:443`)
    const tls = tlsConnect({
      socket,
      servername: 'bücher.de',
      ca: proxy.caPem,
      ALPNProtocols: ['h2'],
      checkServerIdentity: () => undefined,
    })
    await once(tls, 'secureConnect')
    const session = http2Connect(`https://${PUNYCODE}`, { createConnection: () => tls })
    session.on('error', () => {})
    const get = async (authority: string) => {
      const req = session.request({ ':path': '/a', ':authority': authority })
      req.on('error', () => {})
      const [headers] = (await once(req, 'response')) as [Record<string, unknown>]
      let body = ''
      for await (const chunk of req) {
        body += String(chunk)
      }
      return { status: headers[':status'], body }
    }
    await expect(get(UTF8_NAME)).rejects.toThrow(/NGHTTP2_PROTOCOL_ERROR/)
    const served = await get(PUNYCODE)
    session.destroy()
    expect(served.status).toBe(200)
    expect((JSON.parse(served.body) as Echo).path).toBe(`/p/https://${PUNYCODE}/a`)
  })
})
