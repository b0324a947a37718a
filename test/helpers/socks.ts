/** A raw SOCKS5 client (RFC 1928, RFC 1929) on `net` sockets, byte by byte as tests need it. */
import { once } from 'node:events'
import type { Socket } from 'node:net'
import { isIPv4, isIPv6 } from 'node:net'
import { rawSocket } from './clients'

/** Read exactly `count` bytes from `socket`; throws if it closes first. */
export async function readBytes(socket: Socket, count: number): Promise<Buffer> {
  let buffered = Buffer.alloc(0)
  while (buffered.length < count) {
    const chunk = socket.read() as Buffer | null
    if (chunk) {
      buffered = Buffer.concat([buffered, chunk])
      continue
    }
    if (socket.readableEnded || socket.destroyed) {
      throw new Error(
        `closed after ${buffered.length} of ${count} bytes: ${buffered.toString('hex')}`
      )
    }
    await Promise.race([once(socket, 'readable'), once(socket, 'close')])
  }
  if (buffered.length > count) {
    socket.unshift(buffered.subarray(count))
  }
  return buffered.subarray(0, count)
}

/** The request bytes for CONNECT (or `command`) to `host:port`, as a domain, IPv4 or IPv6. */
export function socksRequest(host: string, port: number, command = 0x01): Buffer {
  const portBytes = Buffer.alloc(2)
  portBytes.writeUInt16BE(port)
  let address: Buffer
  if (isIPv4(host)) {
    address = Buffer.from([0x01, ...host.split('.').map(Number)])
  } else if (isIPv6(host)) {
    const groups = expandIPv6(host)
    address = Buffer.alloc(17)
    address[0] = 0x04
    groups.forEach((group, i) => address.writeUInt16BE(group, 1 + i * 2))
  } else {
    address = Buffer.concat([Buffer.from([0x03, host.length]), Buffer.from(host, 'latin1')])
  }
  return Buffer.concat([Buffer.from([0x05, command, 0x00]), address, portBytes])
}

function expandIPv6(host: string): number[] {
  const [left = '', right = ''] = host.split('::')
  const head = left === '' ? [] : left.split(':')
  const tail = right === '' ? [] : right.split(':')
  const middle = Array<string>(8 - head.length - tail.length).fill('0')
  return [...head, ...middle, ...tail].map((group) => parseInt(group, 16))
}

/** The RFC 1929 sub-negotiation bytes. */
export function socksCredentials(user: string, password: string): Buffer {
  const u = Buffer.from(user)
  const p = Buffer.from(password)
  return Buffer.concat([Buffer.from([0x01, u.length]), u, Buffer.from([p.length]), p])
}

/**
 * Open a SOCKS5 tunnel to `host:port`, with credentials when given; resolves with the socket and
 * the reply code (0 is success), having checked each step's answer.
 */
export async function socksConnect(
  proxyPort: number,
  host: string,
  port: number,
  credentials?: { user: string; password: string }
): Promise<{ socket: Socket; reply: number }> {
  const socket = await rawSocket(proxyPort)
  socket.on('error', () => {})
  socket.write(Buffer.from(credentials ? [0x05, 0x01, 0x02] : [0x05, 0x01, 0x00]))
  const method = await readBytes(socket, 2)
  if (method[1] !== (credentials ? 0x02 : 0x00)) {
    throw new Error(`method ${method.toString('hex')}`)
  }
  if (credentials) {
    socket.write(socksCredentials(credentials.user, credentials.password))
    const status = await readBytes(socket, 2)
    if (status[1] !== 0x00) {
      throw new Error(`auth status ${status.toString('hex')}`)
    }
  }
  socket.write(socksRequest(host, port))
  const reply = await readBytes(socket, 10)
  return { socket, reply: reply[1] ?? -1 }
}

/**
 * Send `parts` on a new connection (then end it, when `end` is set) and collect everything until
 * the proxy closes it.
 */
export async function socksExchange(
  proxyPort: number,
  parts: Buffer[],
  { end = false } = {}
): Promise<Buffer> {
  const socket = await rawSocket(proxyPort)
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  socket.on('error', () => {})
  for (const part of parts) {
    socket.write(part)
  }
  if (end) {
    socket.end()
  }
  // The proxy half-closes after its answer; end ours so the connection closes at once.
  socket.once('end', () => socket.end())
  await once(socket, 'close')
  return Buffer.concat(chunks)
}
