/**
 * Raw ways into the proxy for the soak's clients: a CONNECT tunnel, TLS inside it (verified
 * against the proxy's CA), and an HTTP/2 session over that.
 */
import { once } from 'node:events'
import { connect as http2Connect } from 'node:http2'
import type { ClientHttp2Session } from 'node:http2'
import { connect as netConnect } from 'node:net'
import type { Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import type { TLSSocket } from 'node:tls'
import { aborted } from './loop'

/** Where the proxy listens, and its CA. */
export interface Target {
  port: number
  caPem: string
}

/** A CONNECT tunnel to `authority`, after its 200. */
export async function connectTunnel(
  target: Target,
  authority: string,
  signal: AbortSignal
): Promise<Socket> {
  const socket = netConnect(target.port, '127.0.0.1')
  socket.on('error', () => {})
  signal.addEventListener('abort', () => socket.destroy(), { once: true })
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`)
  let head = Buffer.alloc(0)
  while (!head.includes('\r\n\r\n')) {
    const [chunk] = (await Promise.race([once(socket, 'data'), aborted(signal)])) as [Buffer]
    head = Buffer.concat([head, chunk])
  }
  if (!head.subarray(0, 12).toString().includes(' 200')) {
    socket.destroy()
    throw new Error(`CONNECT ${authority}: ${head.toString().split('\r\n')[0]}`)
  }
  return socket
}

/** TLS for `host` inside a tunnel to it, offering `alpn`. */
export async function tlsTunnel(
  target: Target,
  host: string,
  alpn: string[],
  signal: AbortSignal
): Promise<TLSSocket> {
  const socket = await connectTunnel(target, `${host}:443`, signal)
  const tls = tlsConnect({ socket, servername: host, ca: target.caPem, ALPNProtocols: alpn })
  tls.on('error', () => {})
  signal.addEventListener('abort', () => tls.destroy(), { once: true })
  await Promise.race([once(tls, 'secureConnect'), aborted(signal)])
  return tls
}

/** An HTTP/2 session to `host` through a tunnel, and the TLS socket under it. */
export async function h2Session(
  target: Target,
  host: string,
  signal: AbortSignal
): Promise<{ session: ClientHttp2Session; tls: TLSSocket }> {
  const tls = await tlsTunnel(target, host, ['h2'], signal)
  const session = http2Connect(`https://${host}`, { createConnection: () => tls })
  session.on('error', () => {})
  await Promise.race([once(session, 'remoteSettings'), aborted(signal)])
  return { session, tls }
}

/** One GET on `session`: the status and the body. */
export async function h2Get(
  session: ClientHttp2Session,
  path: string,
  signal: AbortSignal
): Promise<{ status: number; body: string }> {
  const stream = session.request({ ':path': path }, { signal })
  stream.on('error', () => {})
  const [headers] = (await Promise.race([once(stream, 'response'), aborted(signal)])) as [
    Record<string, string>,
  ]
  const chunks: Buffer[] = []
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer)
  }
  return { status: Number(headers[':status']), body: Buffer.concat(chunks).toString() }
}
