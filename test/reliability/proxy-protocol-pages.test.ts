import { once } from 'node:events'
import type { Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { echoApp } from '../helpers/apps'
import { rawExchange, rawSocket, readHead } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

/** What a balancer on 198.51.100.1:8080 sends first for a client at 192.0.2.10. */
const PROXY_LINE = 'PROXY TCP4 192.0.2.10 198.51.100.1 56324 8080\r\n'
const BALANCER = '198.51.100.1:8080'

async function start(): Promise<RunningProxy> {
  running = await startProxy(echoApp(), { proxyProtocol: true })
  return running
}

/** One request behind the PROXY header, on a connection closed after it; the raw reply. */
function exchange(proxy: RunningProxy, request: string): Promise<string> {
  return rawExchange(proxy.port, `${PROXY_LINE}${request}`)
}

describe('the PAC file and landing page behind a balancer', () => {
  it.each([
    ['the PAC file', '/proxy.pac', `"PROXY ${BALANCER}; SOCKS5 ${BALANCER}"`],
    ['the landing page', '/download/', `<code>http://${BALANCER}</code>`],
  ])('names the balancer address in %s fetched through the proxy', async (_name, path, named) => {
    const proxy = await start()
    const reply = await exchange(
      proxy,
      `GET http://wsgiprox${path} HTTP/1.1\r\nHost: wsgiprox\r\nConnection: close\r\n\r\n`
    )
    expect(reply).toMatch(/^HTTP\/1\.1 200 /)
    expect(reply).toContain(named)
    expect(reply).not.toContain(`127.0.0.1:${proxy.port}`)
  })

  it('serves the direct PAC URL on the balancer address as the PAC file', async () => {
    const proxy = await start()
    const reply = await exchange(
      proxy,
      `GET /proxy.pac HTTP/1.1\r\nHost: ${BALANCER}\r\nConnection: close\r\n\r\n`
    )
    expect(reply).toMatch(/^HTTP\/1\.1 200 /)
    expect(reply.toLowerCase()).toContain('content-type: application/x-ns-proxy-autoconfig')
    expect(reply).toContain(`"PROXY ${BALANCER}; SOCKS5 ${BALANCER}"`)
  })

  it('names the balancer address in the PAC file fetched over TLS in a tunnel', async () => {
    const proxy = await start()
    const socket: Socket = await rawSocket(proxy.port)
    socket.write(`${PROXY_LINE}CONNECT wsgiprox:443 HTTP/1.1\r\nHost: wsgiprox:443\r\n\r\n`)
    expect(await readHead(socket)).toMatch(/^HTTP\/1\.1 200 /)
    const tls = tlsConnect({ socket, servername: 'wsgiprox', ca: proxy.caPem })
    await once(tls, 'secureConnect')
    tls.write('GET /proxy.pac HTTP/1.1\r\nHost: wsgiprox\r\nConnection: close\r\n\r\n')
    const chunks: Buffer[] = []
    for await (const chunk of tls) {
      chunks.push(chunk as Buffer)
    }
    const reply = Buffer.concat(chunks).toString()
    expect(reply).toMatch(/^HTTP\/1\.1 200 /)
    expect(reply).toContain(`"PROXY ${BALANCER}; SOCKS5 ${BALANCER}"`)
  })
})
