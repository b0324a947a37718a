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
})
