/**
 * The access record of a request refused from its bytes alone (Node's HTTP parser's 400, 413, 431;
 * the PROXY protocol's 400): the proxy answered it, so it gets its line like any other, from what
 * can be read of its request line.
 * @module
 */
import type { Duplex } from 'node:stream'
import type { TunnelIdentity } from '../admission/decision'
import type { RequestRecord } from './records'
import { clientOf, tunnelRecord } from './watch'

/** At most this much of a refused request line is logged: it may be the attack itself. */
const LOGGED_TARGET_MAX = 2048

/** `rawPacket`'s first line read as `METHOD TARGET HTTP/x.y`, as far as it goes. */
function requestLine(rawPacket: unknown): { method: string; url: string; httpVersion: string } {
  const bytes = Buffer.isBuffer(rawPacket) ? rawPacket : Buffer.alloc(0)
  const end = bytes.indexOf('\n')
  const line = bytes
    .subarray(0, Math.min(end === -1 ? bytes.length : end, LOGGED_TARGET_MAX))
    .toString('latin1')
    .replace(/\r$/, '')
  const [method = '', url = '', version = ''] = line.split(' ')
  // The parser that refused it speaks HTTP/1 only: another version named in the line (HTTP/2.0,
  // HTTP/1.9) is not what the exchange was, and must not count as h2 or as a version of its own.
  const httpVersion = version === 'HTTP/1.0' ? '1.0' : '1.1'
  return { method: method === '' ? '-' : method, url: url === '' ? '-' : url, httpVersion }
}

/** The record of a request the parser on `socket` refused, answered with `status` and a body of `bytes`. */
export function parseErrorRecord(
  error: Error,
  socket: Duplex,
  answer: { status: number; bytes: number | undefined },
  tunnel: TunnelIdentity | undefined
): RequestRecord {
  return refusedBytesRecord((error as { rawPacket?: unknown }).rawPacket, socket, answer, tunnel)
}

/**
 * The record of a request the proxy refused from its first bytes, `packet`, before any parser
 * made a request of them (a parse error; a request without the PROXY protocol header).
 */
export function refusedBytesRecord(
  packet: unknown,
  socket: Duplex,
  answer: { status: number; bytes: number | undefined },
  tunnel: TunnelIdentity | undefined
): RequestRecord {
  const { status, bytes } = answer
  return {
    type: 'request',
    time: new Date(),
    client: clientOf(socket),
    ...requestLine(packet),
    path: undefined,
    route: 'proxy',
    status,
    bytes,
    durationMs: 0,
    tunnel: tunnelRecord(tunnel, socket),
    aborted: false,
    websocket: false,
  }
}
