/**
 * A tunnel whose client ends it before sending a byte (a browser's unused preconnect) is closed
 * at once, CONNECT and SOCKS5 alike: its descriptor, its place among the open tunnels (the
 * keep-alive budget, the metrics gauge) and its log record are not held until the handshake
 * deadline.
 */
import type { Socket } from 'node:net'
import { connect } from 'node:net'
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

describe('a CONNECT whose client ends its side while an async requireAuth decides', () => {
  /** A CONNECT sent with `after` behind it and the client's end, the proxy deciding slowly. */
  async function endedWhileDeciding(after: string) {
    const { onLog, tunnelClosed } = firstTunnelClose()
    running = await startProxy(echoApp(), {
      handshakeTimeoutMs: DEADLINE_MS,
      onLog,
      resolver: {
        requireAuth: () => new Promise<undefined>((resolve) => setTimeout(resolve, 200)),
        resolve: (url) => `/${url}`,
      },
    })
    const socket = connect({ port: running.port, host: '127.0.0.1', allowHalfOpen: true })
    const closed = closeOf(socket, 'the proxy held a tunnel whose client had ended it')
    socket.end(`CONNECT example.com:80 HTTP/1.1\r\nHost: example.com:80\r\n\r\n${after}`)
    const bytes = (await closed).toString('latin1')
    await within(tunnelClosed, 'no tunnel-close record for the ended tunnel')
    return { bytes, errors: running.errors.map((error) => error.message) }
  }

  it('closes the tunnel at once after its 200', async () => {
    const { bytes, errors } = await endedWhileDeciding('')
    expect(bytes).toBe('HTTP/1.1 200 Connection Established\r\n\r\n')
    expect(errors).toEqual([])
  })

  it('closes it at once with a request sent behind the CONNECT, and reports no error', async () => {
    const { bytes, errors } = await endedWhileDeciding(
      'GET /x HTTP/1.1\r\nHost: example.com\r\n\r\n'
    )
    expect(bytes).toMatch(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/)
    expect(errors).toEqual([])
  })
})
