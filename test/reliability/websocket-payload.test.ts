import { WebSocketServer } from 'ws'
import type WebSocket from 'ws'
import { once } from 'node:events'
import { OptionsError } from '../../src/errors'
import { createProxy } from '../../src/proxy'
import type { ProxyOptions } from '../../src/types'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'
import {
  closeSocket,
  echoSocketApp,
  nextMessage,
  openedHello,
  tunnelledSocket,
} from '../helpers/websockets'

let running: RunningProxy | undefined
const sockets: WebSocket[] = []
afterEach(async () => {
  await Promise.all(sockets.splice(0).map(closeSocket))
  await running?.close()
  running = undefined
})

const MiB = 1024 * 1024

async function opened(url: string, options: ProxyOptions = {}) {
  running ??= await startProxy(echoSocketApp('main'), options)
  const ws = tunnelledSocket(running.port, url, running.caPem)
  ws.on('error', () => {})
  sockets.push(ws)
  await openedHello(ws)
  return ws
}

/** The close code `ws` gets. */
async function closeCode(ws: WebSocket): Promise<number> {
  const [code] = (await once(ws, 'close')) as [number]
  return code
}

describe('websocket message limit', () => {
  it('closes with 1009 a connection whose message is over 8 MiB, and leaves the others be', async () => {
    const big = await opened('wss://example.com/big')
    const other = await opened('wss://example.com/other')
    const closed = closeCode(big)
    big.send(Buffer.alloc(8 * MiB + 1))
    expect(await closed).toBe(1009)
    other.send('still here')
    expect((await nextMessage(other)).data.toString()).toBe('still here')
  })

  it('echoes a message of exactly 8 MiB', async () => {
    const ws = await opened('ws://example.com/')
    ws.send(Buffer.alloc(8 * MiB, 1))
    expect((await nextMessage(ws)).data.length).toBe(8 * MiB)
  })

  it('takes its limit from websocketMaxPayload', async () => {
    const ws = await opened('ws://example.com/', { websocketMaxPayload: 1024 })
    const closed = closeCode(ws)
    ws.send(Buffer.alloc(1025))
    expect(await closed).toBe(1009)
  })

  it('leaves a websocket.server of the user its own maxPayload', async () => {
    const server = new WebSocketServer({ noServer: true, maxPayload: 16 * MiB })
    const ws = await opened('ws://example.com/', { websocket: { server } })
    ws.send(Buffer.alloc(12 * MiB, 2))
    expect((await nextMessage(ws)).data.length).toBe(12 * MiB)
    server.close()
  })

  it('refuses websocketMaxPayload beside a websocket.server, and a limit that is no size', () => {
    const server = new WebSocketServer({ noServer: true })
    const app = echoSocketApp('main')
    expect(() => createProxy(app, { websocket: { server }, websocketMaxPayload: 1 })).toThrow(
      OptionsError
    )
    expect(() => createProxy(app, { websocketMaxPayload: 0 })).toThrow(/websocketMaxPayload/)
    server.close()
  })
})
