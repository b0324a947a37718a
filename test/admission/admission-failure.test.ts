import { once } from 'node:events'
import type * as GateModule from '../../src/admission/gate'
import type { LogRecord, RequestRecord } from '../../src/log/records'
import { echoApp } from '../helpers/apps'
import { h2OverTunnel, proxyGet, rawExchange, rawSocket } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'
import { within } from '../helpers/within'

// Admission itself failing (a bug in the gate, or a callback that escaped its guard) cannot be
// provoked through the public options, which every guard covers: the gate is made to reject
// for paths under /bug at once, and under /late-bug after the client may have left.
vi.mock('../../src/admission/gate', async (importOriginal) => {
  const real = await importOriginal<typeof GateModule>()
  return {
    ...real,
    createGate: (...args: Parameters<typeof real.createGate>) => {
      const gate = real.createGate(...args)
      return {
        ...gate,
        admitRequest: (...request: Parameters<typeof gate.admitRequest>) => {
          const url = request[1].url ?? ''
          if (url.includes('/late-bug')) {
            return new Promise<never>((_, reject) => {
              setTimeout(() => {
                reject(new Error('a late bug in the gate'))
              }, 200)
            })
          }
          return url.includes('/bug')
            ? Promise.reject(new Error('a bug in the gate'))
            : gate.admitRequest(...request)
        },
      }
    },
  }
})

let running: RunningProxy | undefined
const records: LogRecord[] = []
afterEach(async () => {
  records.length = 0
  await running?.close()
  running = undefined
})

async function start(): Promise<RunningProxy> {
  running = await startProxy(echoApp(), { onLog: (record) => records.push(record) })
  return running
}

/** The request record of `url`, once it is made. */
async function recordOf(url: string): Promise<RequestRecord> {
  const found = () =>
    records.find(
      (record): record is RequestRecord => record.type === 'request' && record.url === url
    )
  return within(
    (async () => {
      let record = found()
      while (!record) {
        await new Promise((resolve) => setImmediate(resolve))
        record = found()
      }
      return record
    })(),
    `no access record of ${url}`
  )
}

describe('a request whose admission fails', () => {
  it('gets 500 and an access record with status 500, with the reason in onError', async () => {
    const proxy = await start()
    const reply = await proxyGet(proxy.port, 'http://example.com/bug')
    expect(reply.status).toBe(500)
    expect(reply.body).toBe('The proxy could not admit this request\n')
    expect(proxy.errors.map((error) => error.message)).toEqual(['a bug in the gate'])
    expect(await recordOf('http://example.com/bug')).toMatchObject({
      method: 'GET',
      status: 500,
      route: 'proxy',
      path: undefined,
      websocket: false,
      aborted: false,
      bytes: reply.body.length,
    })
  })

  it('records a WebSocket upgrade it refuses with status 500', async () => {
    const proxy = await start()
    const answer = await rawExchange(
      proxy.port,
      'GET http://example.com/bug/ws HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\n' +
        'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'
    )
    expect(answer).toMatch(/^HTTP\/1\.1 500 /)
    expect(await recordOf('http://example.com/bug/ws')).toMatchObject({
      status: 500,
      websocket: true,
    })
  })

  it('records an HTTP/2 stream it refuses with status 500', async () => {
    const proxy = await start()
    const { session } = await h2OverTunnel(proxy.port, proxy.caPem)
    const stream = session.request({ ':path': '/bug/h2' })
    const [headers] = (await once(stream, 'response')) as [Record<string, unknown>]
    stream.resume()
    await once(stream, 'close')
    session.destroy()
    expect(headers[':status']).toBe(500)
    expect(await recordOf('https://example.com/bug/h2')).toMatchObject({
      status: 500,
      httpVersion: '2.0',
    })
  })

  it('records one whose client left before the failure as 500, aborted', async () => {
    const proxy = await start()
    const socket = await rawSocket(proxy.port)
    socket.end('GET http://example.com/late-bug HTTP/1.1\r\nHost: example.com\r\n\r\n')
    socket.resume()
    await once(socket, 'close')
    expect(await recordOf('http://example.com/late-bug')).toMatchObject({
      status: 500,
      aborted: true,
      bytes: 0,
    })
    expect(proxy.errors.map((error) => error.message)).toEqual(['a late bug in the gate'])
  })
})
