import { describe, expect, it } from 'vitest'
import { once } from 'node:events'
import { connect, createServer } from 'node:http2'
import type { ServerHttp2Stream } from 'node:http2'
import type { AddressInfo, Socket } from 'node:net'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { manageSession } from '../src/inbound/http2-lifecycle'

describe('a managed HTTP/2 session', () => {
  it("leaves a closed stream only a no-op 'error' listener, after its answer went out whole", async () => {
    const server = createServer()
    const streams: ServerHttp2Stream[] = []
    const closed: Promise<unknown>[] = []
    // The session's own socket is a proxy that refuses listeners: the TCP socket is given instead.
    let tcp: Socket | undefined
    server.prependListener('connection', (socket: Socket) => (tcp = socket))
    server.on('session', (session) => {
      if (!tcp) {
        throw new Error("no 'connection' before the session")
      }
      manageSession(session, tcp, tcp, {
        idleTimeoutMs: 60_000,
        shouldClose: () => false,
      })
    })
    server.on('stream', (stream) => {
      streams.push(stream)
      closed.push(once(stream, 'close'))
      stream.respond({ ':status': 200, 'content-type': 'text/plain' })
      stream.end('hello')
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const client = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    try {
      for (let i = 0; i < 3; i++) {
        const req = client.request({ ':path': `/${i}` })
        req.setEncoding('utf8')
        let body = ''
        req.on('data', (chunk: string) => (body += chunk))
        const [headers] = (await once(req, 'response')) as [Record<string, unknown>]
        await once(req, 'end')
        expect(headers[':status']).toBe(200)
        expect(body).toBe('hello')
      }
      await Promise.all(closed)
      await nextTurn()
      await nextTurn()
      expect(streams).toHaveLength(3)
      for (const stream of streams) {
        expect(stream.eventNames()).toEqual(['error'])
        expect(() => stream.emit('error', new Error('late'))).not.toThrow()
      }
    } finally {
      client.close()
      server.close()
    }
  })
})
