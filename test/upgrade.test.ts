import { once } from 'node:events'
import type { Socket } from 'node:net'
import { echoApp } from './helpers/apps'
import { rawSocket } from './helpers/clients'
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'

let running: RunningProxy
afterEach(async () => {
  await running.close()
})

const request = (path: string, upgrade: boolean) =>
  `GET ${path} HTTP/1.1\r\nHost: localhost\r\n` +
  (upgrade
    ? 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n'
    : '') +
  '\r\n'

/** Read from `socket` until `count` JSON bodies of the echo app arrived; their paths. */
async function paths(socket: Socket, count: number): Promise<string[]> {
  let text = ''
  for (;;) {
    const found = [...text.matchAll(/"path":"([^"]*)"/g)].map((match) => match[1] ?? '')
    if (found.length >= count) {
      return found
    }
    const [chunk] = (await once(socket, 'data')) as [Buffer]
    text += chunk.toString('latin1')
  }
}

describe('upgrades the proxy ignores', () => {
  it('answers requests pipelined behind them, in order', async () => {
    running = await startProxy(echoApp())
    const socket = await rawSocket(running.port)
    socket.write(
      request('/r1', true) + request('/r2', false) + request('/r3', true) + request('/r4', false)
    )
    expect(await paths(socket, 4)).toEqual(['/r1', '/r2', '/r3', '/r4'])
    socket.destroy()
  })

  it('adds no listeners per request on a connection that sends many', async () => {
    running = await startProxy(echoApp())
    const warnings: Error[] = []
    const onWarning = (warning: Error) => warnings.push(warning)
    process.on('warning', onWarning)
    const socket = await rawSocket(running.port)
    const count = 200
    let text = ''
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1')
    })
    for (let i = 0; i < count; i++) {
      socket.write(request(`/u${i}`, true))
      while ((text.match(/"path":/g) ?? []).length <= i) {
        await once(socket, 'data')
      }
    }
    process.off('warning', onWarning)
    expect((text.match(/HTTP\/1\.1 200/g) ?? []).length).toBe(count)
    expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([])
    socket.destroy()
  })

  // Node 26 reads the body of an Upgrade request into the request, where Node 20-24 leave it on
  // the connection: either way the body reaches the app and the next request is answered.
  it.each([
    ['Content-Length', 'Content-Length: 11\r\n\r\n', ['hello', ' world']],
    [
      'chunked',
      'Transfer-Encoding: chunked\r\n\r\n',
      ['5\r\nhello\r\n', '6\r\n world\r\n0\r\n\r\n'],
    ],
  ])(
    'serves a POST with Upgrade: h2c and a %s body, then the next request',
    async (_, framing, parts) => {
      running = await startProxy(echoApp())
      const socket = await rawSocket(running.port)
      let text = ''
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1')
      })
      const bodies = async (count: number) => {
        while ((text.match(/"body":/g) ?? []).length < count) {
          await once(socket, 'data')
        }
        return [...text.matchAll(/"path":"([^"]*)".*?"body":"([^"]*)"/g)].map((m) => [m[1], m[2]])
      }
      socket.write(
        'POST http://example.com/post HTTP/1.1\r\nHost: example.com\r\n' +
          'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n' +
          framing +
          (parts[0] ?? '')
      )
      // The rest of the body in a second write.
      socket.write(parts[1] ?? '')
      expect(await bodies(1)).toEqual([['/http://example.com/post', 'hello world']])
      socket.write('GET http://example.com/next HTTP/1.1\r\nHost: example.com\r\n\r\n')
      expect(await bodies(2)).toEqual([
        ['/http://example.com/post', 'hello world'],
        ['/http://example.com/next', ''],
      ])
      socket.destroy()
    }
  )

  it('serves a request pipelined right behind the body of an ignored Upgrade', async () => {
    running = await startProxy(echoApp())
    const socket = await rawSocket(running.port)
    socket.write(
      'POST /one HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n' +
        'Content-Length: 3\r\n\r\nabc' +
        request('/two', false)
    )
    expect(await paths(socket, 2)).toEqual(['/one', '/two'])
    socket.destroy()
  })
})
