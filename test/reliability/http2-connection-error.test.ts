/**
 * An HTTP/2 client that breaks the protocol (here a frame longer than SETTINGS_MAX_FRAME_SIZE,
 * RFC 9113 §4.2) while a request of its is open: nghttp2 answers GOAWAY and stops reading and
 * writing, and Node then tells the session nothing: no 'error', no 'close'. The open stream kept
 * the idle timeout off, so the proxy held the session, its stream, the tunnel and the descriptor
 * for the life of the process, whether the client left or stayed.
 */
import { once } from 'node:events'
import { connect as tlsConnect } from 'node:tls'
import { echoApp } from '../helpers/apps'
import { connectTunnel, proxyGet } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'
import { closeOf } from '../helpers/within'

const IDLE_MS = 300

let running: RunningProxy
beforeEach(async () => {
  running = await startProxy(echoApp(), { http2IdleTimeoutMs: IDLE_MS, metrics: true })
})
afterEach(async () => {
  await running.close()
})

/** One HTTP/2 frame header and payload (RFC 9113 §4.1); `length` may lie about the payload. */
function frame(type: number, flags: number, stream: number, payload: Buffer, length?: number) {
  const head = Buffer.alloc(9)
  head.writeUIntBE(length ?? payload.length, 0, 3)
  head.writeUInt8(type, 3)
  head.writeUInt8(flags, 4)
  head.writeUInt32BE(stream, 5)
  return Buffer.concat([head, payload])
}

/** `GET https://example.com/` in HPACK: :method GET, :scheme https, :path /, :authority. */
const GET_HEADERS = Buffer.from([0x82, 0x87, 0x84, 0x41, 0x0b, ...Buffer.from('example.com')])

/** The same as a POST (:method POST is 0x83 in HPACK's static table). */
const POST_HEADERS = Buffer.from([0x83, ...GET_HEADERS.subarray(1)])

async function openGauges(): Promise<string[]> {
  const { body } = await proxyGet(running.port, 'http://wsgiprox/metrics')
  return body.split('\n').filter((line) => /^wsgiprox_(open_tunnels|http2_sessions) /.test(line))
}

/**
 * A TLS tunnel with ALPN h2 whose client sends the preface, an empty SETTINGS and `frames`, reads
 * what comes and answers nothing (no SETTINGS ACK, no PING ACK); resolves once the proxy closes it.
 */
async function sendAndWaitForClose(failure: string, ...frames: Buffer[]): Promise<void> {
  const { socket } = await connectTunnel(running.port, 'example.com:443')
  const h2 = { socket, servername: 'example.com', ca: running.caPem, ALPNProtocols: ['h2'] }
  const tls = tlsConnect(h2)
  await once(tls, 'secureConnect')
  tls.resume()
  const closed = closeOf(tls, failure)
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
  tls.write(Buffer.concat([preface, frame(4, 0, 0, Buffer.alloc(0)), ...frames]))
  await closed
}

describe('an HTTP/2 connection error inside a tunnel', () => {
  it('closes the connection after its GOAWAY, with a request open', async () => {
    await sendAndWaitForClose(
      'the proxy kept the connection after its GOAWAY',
      frame(1, 0x5, 3, GET_HEADERS),
      // A DATA frame header announcing 64 KiB, over the 16 KiB the proxy allows.
      frame(0, 0, 1, Buffer.alloc(0), 65_536)
    )
    expect(await openGauges()).toEqual(['wsgiprox_open_tunnels 0', 'wsgiprox_http2_sessions 0'])
  })

  it('destroys a session whose client does not answer PING, with a request open', async () => {
    // The proxy's own PING is bytes crossing the socket too: they must not pass for an answer.
    await sendAndWaitForClose(
      'the proxy kept a session whose client never answered its PING',
      // A POST's HEADERS without END_STREAM: its body never comes, so its stream stays open.
      frame(1, 0x4, 1, POST_HEADERS)
    )
    expect(await openGauges()).toEqual(['wsgiprox_open_tunnels 0', 'wsgiprox_http2_sessions 0'])
  })
})
