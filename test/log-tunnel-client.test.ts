import type { Socket } from 'node:net'
import type { LogRecord, TunnelEventRecord } from '../src/log/records'
import type { Resolver } from '../src/types'
import { echoApp } from './helpers/apps'
import { rawSocket } from './helpers/clients'
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'
import { readBytes, socksRequest } from './helpers/socks'

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

/**
 * A resolver whose `requireAuth` waits, for requests to example.com, until the test lets it
 * admit, so that the client can leave while admission decides. (SOCKS5 asks it about the proxy
 * host first, to choose the auth method: that answer comes at once.)
 */
function heldResolver() {
  let asked = () => {}
  let admit = () => {}
  const wasAsked = new Promise<void>((resolve) => {
    asked = resolve
  })
  const resolver: Resolver = {
    requireAuth: (request) => {
      if (!request.url.includes('example.com')) {
        return undefined
      }
      asked()
      return new Promise<undefined>((resolve) => {
        admit = () => {
          resolve(undefined)
        }
      })
    },
    resolve: (url) => `/${url}`,
  }
  return {
    resolver,
    wasAsked,
    admit: () => {
      admit()
    },
  }
}

/** The proxy's records, and a promise of its first `tunnel-close`. */
function watchLog() {
  const records: LogRecord[] = []
  let closed = () => {}
  const tunnelClosed = new Promise<void>((resolve) => {
    closed = resolve
  })
  const onLog = (record: LogRecord) => {
    records.push(record)
    if (record.type === 'tunnel-close') {
      closed()
    }
  }
  return { records, onLog, tunnelClosed }
}

function tunnelRecords(records: LogRecord[], type: TunnelEventRecord['type']) {
  return records.filter((record): record is TunnelEventRecord => record.type === type)
}

/** Reset `socket` (RST, no FIN) and admit in the same tick: the proxy has not read the reset. */
function resetThenAdmit(socket: Socket, admit: () => void) {
  socket.resetAndDestroy()
  admit()
}

describe('a tunnel whose client resets while admission decides', () => {
  it('is recorded with the client it came from (CONNECT)', async () => {
    const { resolver, wasAsked, admit } = heldResolver()
    const { records, onLog, tunnelClosed } = watchLog()
    running = await startProxy(echoApp(), { resolver, onLog })
    const socket = await rawSocket(running.port)
    socket.on('error', () => {})
    const { localPort } = socket
    socket.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')
    await wasAsked
    resetThenAdmit(socket, admit)
    await tunnelClosed
    const opened = tunnelRecords(records, 'tunnel-open')
    const closed = tunnelRecords(records, 'tunnel-close')
    expect(opened.map((record) => record.client)).toEqual([
      { address: '127.0.0.1', port: localPort },
    ])
    expect(closed.map((record) => record.client)).toEqual([
      { address: '127.0.0.1', port: localPort },
    ])
  })

  it('is recorded with the client it came from (SOCKS5)', async () => {
    const { resolver, wasAsked, admit } = heldResolver()
    const { records, onLog, tunnelClosed } = watchLog()
    running = await startProxy(echoApp(), { resolver, onLog, socks: true })
    const socket = await rawSocket(running.port)
    socket.on('error', () => {})
    const { localPort } = socket
    socket.write(Buffer.from([0x05, 0x01, 0x00]))
    expect([...(await readBytes(socket, 2))]).toEqual([0x05, 0x00])
    socket.write(socksRequest('example.com', 443))
    await wasAsked
    resetThenAdmit(socket, admit)
    await tunnelClosed
    const opened = tunnelRecords(records, 'tunnel-open')
    expect(opened.map((record) => record.client)).toEqual([
      { address: '127.0.0.1', port: localPort },
    ])
  })
})
