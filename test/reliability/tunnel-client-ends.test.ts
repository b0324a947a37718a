/**
 * A tunnel whose client ends it before sending a byte (a browser's unused preconnect) is closed
 * at once, CONNECT and SOCKS5 alike: its descriptor, its place among the open tunnels (the
 * keep-alive budget, the metrics gauge) and its log record are not held until the handshake
 * deadline.
 */
import type { Socket } from 'node:net'
import { echoApp } from '../helpers/apps'
import { connectTunnel } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'
import { socksConnect } from '../helpers/socks'
import { firstTunnelClose } from '../helpers/tunnel-close'
import { closeOf, within } from '../helpers/within'

/** Far past what the test waits for: only the client's end can close the tunnel in time. */
const DEADLINE_MS = 60_000

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

/** A proxy whose first tunnel-close record resolves `tunnelClosed`. */
async function proxyWithTunnelClose() {
  const { onLog, tunnelClosed } = firstTunnelClose()
  running = await startProxy(echoApp(), { handshakeTimeoutMs: DEADLINE_MS, onLog })
  return { proxy: running, tunnelClosed }
}

const opens: [string, (port: number) => Promise<Socket>][] = [
  [
    'CONNECT',
    async (port) => {
      const { socket, status } = await connectTunnel(port, 'example.com:443')
      expect(status).toBe(200)
      return socket
    },
  ],
  [
    'SOCKS5',
    async (port) => {
      const { socket, reply } = await socksConnect(port, 'example.com', 443)
      expect(reply).toBe(0)
      return socket
    },
  ],
]

describe('a tunnel whose client ends it before its first byte', () => {
  it.each(opens)('is closed at once when opened by %s', async (_way, open) => {
    const { proxy, tunnelClosed } = await proxyWithTunnelClose()
    const socket = await open(proxy.port)
    const closed = closeOf(socket, 'the proxy held a tunnel whose client had ended it')
    socket.end()
    expect((await closed).toString('latin1')).toBe('')
    await within(tunnelClosed, 'no tunnel-close record for the ended tunnel')
  })

  it.each(opens)(
    'still answers a request sent with the end, when opened by %s',
    async (_way, open) => {
      const { proxy } = await proxyWithTunnelClose()
      const socket = await open(proxy.port)
      const closed = closeOf(socket, 'the proxy did not answer and close the ended tunnel')
      socket.end('GET /last HTTP/1.1\r\nHost: example.com\r\n\r\n')
      expect((await closed).toString('latin1')).toMatch(/^HTTP\/1\.1 200 /)
    }
  )
})
