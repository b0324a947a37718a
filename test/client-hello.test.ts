import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { serverNameOf } from '../src/inbound/client-hello'

/** The first bytes a Node TLS client sends, naming `servername` (none when undefined). */
async function clientHello(servername: string | undefined): Promise<Buffer> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const accepted = once(server, 'connection')
  const { port } = server.address() as AddressInfo
  const client = tlsConnect({ port, host: '127.0.0.1', servername, maxVersion: 'TLSv1.2' })
  client.on('error', () => undefined)
  const [socket] = (await accepted) as [Socket]
  const [hello] = (await once(socket, 'data')) as [Buffer]
  client.destroy()
  socket.destroy()
  server.close()
  return hello
}

describe('the SNI name of a ClientHello (for resumed TLS 1.2 sessions)', () => {
  it('reads the name a client sends, and none from a hello without one', async () => {
    expect(serverNameOf(await clientHello('example.com'))).toBe('example.com')
    expect(serverNameOf(await clientHello(undefined))).toBeUndefined()
  })

  it('gives no name, and never throws, for every truncation and for garbage', async () => {
    const hello = await clientHello('a.example.com')
    for (let length = 0; length < hello.length; length++) {
      const name = serverNameOf(hello.subarray(0, length))
      expect(name === undefined || name === 'a.example.com').toBe(true)
    }
    expect(serverNameOf(Buffer.from([0x16, 3, 1, 0xff, 0xff, 1, 0xff, 0xff, 0xff]))).toBeUndefined()
    expect(serverNameOf(Buffer.alloc(300, 0xff))).toBeUndefined()
    for (let round = 0; round < 2000; round++) {
      // A record and handshake header, then random lengths and bytes.
      const bytes = randomBytes(round % 200)
      bytes[0] = 0x16
      bytes[5] = 0x01
      expect(() => serverNameOf(bytes)).not.toThrow()
    }
  })
})
