/**
 * SPEC "Connections, errors, resources", read from outside: `keepaliveMax` (default 50, `0` no
 * limit, `-1` one request per tunnel) as a client sees it in `Connection` and in the tunnel
 * closing, and TCP keep-alive on tunnel sockets as the kernel reports it (`/proc/net/tcp`, what
 * `ss -o` shows as `timer:(keepalive,...)`).
 */
import { existsSync, readFileSync } from 'node:fs'
import type { Socket } from 'node:net'
import { echoApp } from '../helpers/apps'
import { connectTunnel, rawSocket, requestOver } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'
import { socksConnect } from '../helpers/socks'
import { closeOf } from '../helpers/within'

let running: RunningProxy | undefined
const opened: Socket[] = []
afterEach(async () => {
  for (const socket of opened.splice(0)) {
    socket.destroy()
  }
  await running?.close()
  running = undefined
})

/** A plain tunnel to example.com:80, open and answered 200. */
async function plainTunnel(port: number): Promise<Socket> {
  const { socket, status } = await connectTunnel(port, 'example.com:80')
  expect(status).toBe(200)
  opened.push(socket)
  return socket
}

/** The `Connection` header of a response to a GET sent inside `tunnel`. */
async function connectionHeader(tunnel: Socket): Promise<string | undefined> {
  return (await requestOver(tunnel, '/k')).headers.connection
}

describe('keepaliveMax', () => {
  it('keeps 50 tunnels alive by default and asks the 51st to close', async () => {
    running = await startProxy(echoApp())
    const tunnels: Socket[] = []
    for (let i = 0; i < 50; i++) {
      tunnels.push(await plainTunnel(running.port))
    }
    const answers = await Promise.all(tunnels.map(connectionHeader))
    expect(new Set(answers)).toEqual(new Set(['keep-alive']))
    const over = await plainTunnel(running.port)
    expect(await connectionHeader(over)).toBe('close')
  })

  it('never asks a client to close with 0', async () => {
    running = await startProxy(echoApp(), { keepaliveMax: 0 })
    const tunnels: Socket[] = []
    for (let i = 0; i < 60; i++) {
      tunnels.push(await plainTunnel(running.port))
    }
    const answers = await Promise.all(tunnels.map(connectionHeader))
    expect(new Set(answers)).toEqual(new Set(['keep-alive']))
  })

  it.each([['CONNECT'], ['SOCKS5']])(
    'closes a %s tunnel after its one request with -1',
    async (way) => {
      running = await startProxy(echoApp(), { keepaliveMax: -1 })
      const tunnel =
        way === 'CONNECT'
          ? await plainTunnel(running.port)
          : (await socksConnect(running.port, 'example.com', 80)).socket
      opened.push(tunnel)
      const closed = closeOf(tunnel, 'the tunnel stayed open after its one request')
      tunnel.write('GET /one HTTP/1.1\r\nHost: example.com\r\nConnection: keep-alive\r\n\r\n')
      const text = (await closed).toString('latin1')
      expect(text).toMatch(/^HTTP\/1\.1 200 /)
      expect(text).toMatch(/\r\nConnection: close\r\n/i)
    }
  )
})

/**
 * The kernel's timer for the proxy's side of the connection whose client is `client`: the
 * `tr` column of `/proc/net/tcp` (0 none, 1 retransmit, 2 keep-alive; net/ipv4/tcp_ipv4.c).
 */
function proxySideTimer(proxyPort: number, client: Socket): number | undefined {
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, '0')
  const local = `0100007F:${hex(proxyPort)}`
  const remote = `0100007F:${hex(client.localPort ?? 0)}`
  for (const line of readFileSync('/proc/net/tcp', 'latin1').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    if (fields[1] === local && fields[2] === remote) {
      return Number(fields[5]?.split(':')[0])
    }
  }
  return undefined
}

/** The proxy side's timer once nothing is left to retransmit (a reply may still be in flight). */
async function settledTimer(proxyPort: number, client: Socket): Promise<number | undefined> {
  let timer = proxySideTimer(proxyPort, client)
  for (let turn = 0; timer === 1 && turn < 100; turn++) {
    await new Promise((resolve) => setTimeout(resolve, 10))
    timer = proxySideTimer(proxyPort, client)
  }
  return timer
}

const KEEPALIVE_TIMER = 2

describe.skipIf(!existsSync('/proc/net/tcp'))('TCP keep-alive', () => {
  it.each([['CONNECT'], ['SOCKS5']])('is set on the socket of a %s tunnel', async (way) => {
    running = await startProxy(echoApp())
    const tunnel =
      way === 'CONNECT'
        ? await plainTunnel(running.port)
        : (await socksConnect(running.port, 'example.com', 80)).socket
    opened.push(tunnel)
    // A reply inside the tunnel: the proxy has long set up the tunnel's socket by then.
    expect((await requestOver(tunnel, '/')).status).toBe(200)
    expect(await settledTimer(running.port, tunnel)).toBe(KEEPALIVE_TIMER)
  })

  it('is not what an ordinary proxy connection gets (the check can tell)', async () => {
    running = await startProxy(echoApp())
    const client = await rawSocket(running.port)
    opened.push(client)
    expect((await requestOver(client, 'http://example.com/')).status).toBe(200)
    expect(await settledTimer(running.port, client)).toBe(0)
  })
})
