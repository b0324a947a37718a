import { once } from 'node:events'
import { request as httpRequest } from 'node:http'
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { connect as http2Connect } from 'node:http2'
import type { ClientHttp2Session, IncomingHttpHeaders as Http2Headers } from 'node:http2'
import { connect as netConnect } from 'node:net'
import type { Socket } from 'node:net'
import { Duplex } from 'node:stream'
import { checkServerIdentity, connect as tlsConnect } from 'node:tls'
import type { TLSSocket } from 'node:tls'

/** A response as a client saw it. */
export interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
  httpVersion: string
}

/** Open a TCP connection to the proxy. */
export async function rawSocket(port: number): Promise<Socket> {
  const socket = netConnect(port, '127.0.0.1')
  await once(socket, 'connect')
  return socket
}

/**
 * Send `text` on a new connection and collect everything until the server closes it. A reset
 * counts as a close: a server that answers before reading all of `text` (431 to oversized
 * headers) resets the connection on Node 24, after its answer.
 */
export async function rawExchange(port: number, text: string | Buffer): Promise<string> {
  const socket = await rawSocket(port)
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  socket.on('error', () => {})
  const closed = new Promise((resolve) => socket.once('close', resolve))
  socket.write(text)
  await closed
  return Buffer.concat(chunks).toString('latin1')
}

/** Read from `socket` until a full response head (`\r\n\r\n`) arrived; returns the head. */
export async function readHead(socket: Socket): Promise<string> {
  let buffered = Buffer.alloc(0)
  for (;;) {
    const end = buffered.indexOf('\r\n\r\n')
    if (end !== -1) {
      const rest = buffered.subarray(end + 4)
      if (rest.length > 0) {
        socket.unshift(rest)
      }
      return buffered.subarray(0, end).toString('latin1')
    }
    const chunk = socket.read() as Buffer | null
    if (chunk) {
      buffered = Buffer.concat([buffered, chunk])
      continue
    }
    if (socket.readableEnded || socket.destroyed) {
      throw new Error(`connection closed after ${JSON.stringify(buffered.toString('latin1'))}`)
    }
    await Promise.race([once(socket, 'readable'), once(socket, 'close')])
  }
}

/** CONNECT to `authority` through the proxy; resolves with the socket and the reply head. */
export async function connectTunnel(
  port: number,
  authority: string,
  headers: Record<string, string> = {},
  httpVersion = '1.1'
): Promise<{ socket: Socket; head: string; status: number }> {
  const socket = await rawSocket(port)
  const lines = [`CONNECT ${authority} HTTP/${httpVersion}`, `Host: ${authority}`]
  for (const [name, value] of Object.entries(headers)) {
    lines.push(`${name}: ${value}`)
  }
  socket.write(`${lines.join('\r\n')}\r\n\r\n`)
  const head = await readHead(socket)
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1])
  return { socket, head, status }
}

/** Start TLS over an open tunnel, trusting only `caPem`; `servername` undefined sends no SNI. */
export async function tlsOverTunnel(
  socket: Socket,
  servername: string | undefined,
  caPem: string,
  identity: string | undefined = servername
): Promise<TLSSocket> {
  const secure = tlsConnect({
    socket,
    servername,
    ca: caPem,
    ALPNProtocols: ['http/1.1'],
    // Verified against the CA and the name (or IP) the client expects, as real clients do.
    checkServerIdentity: (_host, cert) => checkServerIdentity(identity ?? '', cert),
  })
  await once(secure, 'secureConnect')
  return secure
}

/** Send one HTTP request over an existing connection (a tunnel, with or without TLS). */
export async function requestOver(
  socket: Socket,
  path: string,
  options: {
    method?: string
    headers?: Record<string, string>
    body?: string | Buffer
    host?: string
  } = {}
): Promise<Reply> {
  const req = httpRequest({
    createConnection: () => socket,
    path,
    method: options.method ?? 'GET',
    // Node's client asks to close when it has no agent; tunnels are reused, so ask to keep it.
    headers: { host: options.host ?? 'example.com', connection: 'keep-alive', ...options.headers },
  })
  req.end(options.body)
  return collect(req)
}

/** Send one proxy request in absolute form (`GET http://host/path`) through Node's http. */
export async function proxyGet(
  port: number,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {}
): Promise<Reply> {
  const target = new URL(url)
  const req = httpRequest({
    host: '127.0.0.1',
    port,
    path: url,
    method: options.method ?? 'GET',
    headers: { host: target.host, ...options.headers },
    agent: false,
  })
  req.end(options.body)
  return collect(req)
}

/** Open a tunnel to `authority` and a TLS session for `servername` inside it. */
export async function httpsTunnel(
  port: number,
  authority: string,
  servername: string | undefined,
  caPem: string,
  identity: string | undefined = servername
): Promise<TLSSocket> {
  const { socket, status } = await connectTunnel(port, authority)
  if (status !== 200) {
    throw new Error(`CONNECT ${authority} answered ${status}`)
  }
  return tlsOverTunnel(socket, servername, caPem, identity)
}

/** Wait for the response to `req` and read it whole. */
async function collect(req: ClientRequest): Promise<Reply> {
  const [res] = (await once(req, 'response')) as [IncomingMessage]
  const chunks: Buffer[] = []
  for await (const chunk of res) {
    chunks.push(chunk as Buffer)
  }
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    body: Buffer.concat(chunks).toString('utf8'),
    httpVersion: res.httpVersion,
  }
}

/**
 * An HTTP/2 session to `host` over TLS (ALPN h2, verified against `caPem`) in a CONNECT tunnel
 * through the proxy on `port`.
 */
export async function h2OverTunnel(
  port: number,
  caPem: string,
  host = 'example.com',
  connectHeaders: Record<string, string> = {}
): Promise<{ tls: TLSSocket; session: ClientHttp2Session }> {
  const { socket } = await connectTunnel(port, `${host}:443`, connectHeaders)
  const tls = tlsConnect({ socket, servername: host, ca: caPem, ALPNProtocols: ['h2'] })
  await once(tls, 'secureConnect')
  const session = http2Connect(`https://${host}`, { createConnection: () => tls })
  return { tls, session }
}

/** A GET of `path` on `session`, read whole: the status, the headers and the body as text. */
export async function h2Get(session: ClientHttp2Session, path: string) {
  const stream = session.request({ ':path': path })
  const [headers] = (await once(stream, 'response')) as [Http2Headers]
  let body = ''
  for await (const chunk of stream) {
    body += String(chunk)
  }
  return { status: Number(headers[':status']), headers, body }
}

/**
 * `socket` as a stream whose first write goes out in two parts, the second `delayMs` later: a
 * client whose first bytes (an HTTP/2 preface) arrive in two reads. node:http2 writes through
 * it when it is given as `createConnection`.
 */
export function splitFirstWrite(socket: Socket, delayMs = 100): Duplex {
  let first = true
  const duplex = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      if (!first) {
        socket.write(chunk, callback)
        return
      }
      first = false
      socket.write(chunk.subarray(0, 2))
      setTimeout(() => socket.write(chunk.subarray(2), callback), delayMs)
    },
    read() {
      socket.resume()
    },
    final(callback) {
      socket.end(callback)
    },
    destroy(error, callback) {
      socket.destroy()
      callback(error)
    },
  })
  socket.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) {
      socket.pause()
    }
  })
  socket.on('end', () => duplex.push(null))
  socket.on('error', (error) => duplex.destroy(error))
  return duplex
}
