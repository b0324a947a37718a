/**
 * Pure parsing of the SOCKS5 handshake a client sends (RFC 1928, RFC 1929), and the bytes the
 * proxy answers with. No sockets: each parser takes the bytes received so far and says whether
 * the message is complete, incomplete, or invalid, so every case is table-tested.
 * @module
 */
import { bracketed } from '../admission/target'

/** The first byte of every SOCKS5 greeting and request. */
export const SOCKS5_VERSION = 0x05

/** Authentication methods (RFC 1928 §3). */
export const METHOD = { none: 0x00, password: 0x02, noneAcceptable: 0xff } as const

/** Reply codes (RFC 1928 §6). */
export const REPLY = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const

/** The value of a reply code. */
export type ReplyCode = (typeof REPLY)[keyof typeof REPLY]

/** A parse of the bytes so far: `length` is how many bytes the message took. */
export type Parsed<T> =
  | { kind: 'incomplete' }
  | { kind: 'invalid'; reason: string; reply?: ReplyCode }
  | { kind: 'done'; value: T; length: number }

const INCOMPLETE = { kind: 'incomplete' } as const

/** The methods a client offers: `VER NMETHODS METHODS...`. */
export function parseGreeting(bytes: Buffer): Parsed<ReadonlySet<number>> {
  if (bytes.length < 2) {
    return INCOMPLETE
  }
  if (bytes[0] !== SOCKS5_VERSION) {
    return { kind: 'invalid', reason: `SOCKS version ${String(bytes[0])} is not 5` }
  }
  const count = bytes[1] ?? 0
  if (count === 0) {
    return { kind: 'invalid', reason: 'the greeting offers no method' }
  }
  if (bytes.length < 2 + count) {
    return INCOMPLETE
  }
  return { kind: 'done', value: new Set(bytes.subarray(2, 2 + count)), length: 2 + count }
}

/** Username and password (RFC 1929): `VER=1 ULEN UNAME PLEN PASSWD`, as raw bytes. */
export interface Credentials {
  username: Buffer
  password: Buffer
}

/** Parse the username/password sub-negotiation. */
export function parseCredentials(bytes: Buffer): Parsed<Credentials> {
  if (bytes.length < 2) {
    return INCOMPLETE
  }
  if (bytes[0] !== 0x01) {
    return { kind: 'invalid', reason: `username/password version ${String(bytes[0])} is not 1` }
  }
  const userEnd = 2 + (bytes[1] ?? 0)
  if (bytes.length < userEnd + 1) {
    return INCOMPLETE
  }
  const passEnd = userEnd + 1 + (bytes[userEnd] ?? 0)
  if (bytes.length < passEnd) {
    return INCOMPLETE
  }
  return {
    kind: 'done',
    value: { username: bytes.subarray(2, userEnd), password: bytes.subarray(userEnd + 1, passEnd) },
    length: passEnd,
  }
}

/** The `Proxy-Authorization` value the credentials stand for, or `undefined` if none can. */
export function basicAuthorization({ username, password }: Credentials): string | undefined {
  // Basic's user-id may not contain a colon (RFC 7617 §2): the split would move it.
  if (username.includes(0x3a)) {
    return undefined
  }
  return `Basic ${Buffer.concat([username, Buffer.from(':'), password]).toString('base64')}`
}

/** Parse a request: `VER CMD RSV ATYP DST.ADDR DST.PORT`; the value is a `host:port` target. */
export function parseRequest(bytes: Buffer): Parsed<string> {
  if (bytes.length < 5) {
    return INCOMPLETE
  }
  if (bytes[0] !== SOCKS5_VERSION) {
    return { kind: 'invalid', reason: `SOCKS version ${String(bytes[0])} is not 5` }
  }
  const type = bytes[3]
  let addressEnd: number
  if (type === 0x01) {
    addressEnd = 4 + 4
  } else if (type === 0x04) {
    addressEnd = 4 + 16
  } else if (type === 0x03) {
    addressEnd = 5 + (bytes[4] ?? 0)
  } else {
    return {
      kind: 'invalid',
      reason: `address type ${String(type)} is not supported`,
      reply: REPLY.addressTypeNotSupported,
    }
  }
  if (bytes.length < addressEnd + 2) {
    return INCOMPLETE
  }
  // Only CONNECT: a proxy that answers every request itself has nothing to BIND or relay by UDP.
  if (bytes[1] !== 0x01) {
    return {
      kind: 'invalid',
      reason: `command ${String(bytes[1])} is not supported (only CONNECT)`,
      reply: REPLY.commandNotSupported,
    }
  }
  const port = bytes.readUInt16BE(addressEnd)
  return {
    kind: 'done',
    value: `${hostOf(type, bytes, addressEnd)}:${port}`,
    length: addressEnd + 2,
  }
}

/** The host of a request's address, bracketed when it is IPv6; the validator checks it later. */
function hostOf(type: number, bytes: Buffer, end: number): string {
  if (type === 0x01) {
    return bytes.subarray(4, end).join('.')
  }
  if (type === 0x04) {
    const groups: string[] = []
    for (let i = 4; i < end; i += 2) {
      groups.push(bytes.readUInt16BE(i).toString(16))
    }
    return bracketed(groups.join(':'))
  }
  // A client may send an IPv6 literal as a name; the authority form brackets it.
  return bracketed(bytes.toString('latin1', 5, end))
}

/** A reply to a request; the bound address is left zero, which clients of a proxy ignore. */
export function replyBytes(code: ReplyCode): Buffer {
  return Buffer.from([SOCKS5_VERSION, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0])
}
