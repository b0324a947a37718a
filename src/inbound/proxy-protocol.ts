/**
 * The PROXY protocol header a TCP load balancer (HAProxy `send-proxy` / `send-proxy-v2`) puts in
 * front of a connection to tell the server who the client is. A pure, strict parser: bytes in,
 * a verdict out, no I/O.
 * @see https://www.haproxy.org/download/2.6/doc/proxy-protocol.txt
 * @module
 */
import { isIPv4, isIPv6 } from 'node:net'

/** The client and the address it connected to, as the load balancer saw them. */
export interface ProxiedAddresses {
  family: 'IPv4' | 'IPv6'
  source: { address: string; port: number }
  destination: { address: string; port: number }
}

/**
 * A complete header. `addresses` is undefined for v1 `UNKNOWN`, v2 `LOCAL` (the balancer's own
 * health checks) and v2 families that carry no IP address: the connection's own addresses
 * stand, as the specification asks.
 */
export interface ProxyHeader {
  version: 1 | 2
  addresses: ProxiedAddresses | undefined
  /** Bytes the header takes; what follows belongs to the client's protocol. */
  length: number
}

/** The verdict on the bytes received so far. */
export type ProxyHeaderResult =
  | { kind: 'header'; header: ProxyHeader }
  /** `needed`: how many bytes in all before the verdict can change. */
  | { kind: 'incomplete'; needed: number }
  | { kind: 'invalid'; reason: string }

/** §2.1: a v1 line is at most 107 bytes, CRLF included. */
export const V1_MAX_LENGTH = 107
/** §2.2: the 12-byte v2 signature, then version/command, family/transport, a 16-bit length. */
export const V2_SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1')
const V2_FIXED_LENGTH = 16
/** §2.2: the largest v2 header the 16-bit length allows. */
export const V2_MAX_LENGTH = V2_FIXED_LENGTH + 0xffff
const V1_PREFIX = Buffer.from('PROXY ', 'latin1')

const incomplete = (needed: number): ProxyHeaderResult => ({ kind: 'incomplete', needed })
const invalid = (reason: string): ProxyHeaderResult => ({ kind: 'invalid', reason })

/**
 * Parse the PROXY header at the start of `bytes`. Answers `incomplete` only while the bytes can
 * still become a valid header, so a caller never waits for a connection that has already failed;
 * its `needed` lets the caller gather a v2 header whole before parsing again, and never exceeds
 * {@link V2_MAX_LENGTH}.
 */
export function parseProxyHeader(bytes: Uint8Array): ProxyHeaderResult {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (startsWithPrefixOf(data, V2_SIGNATURE)) {
    return data.length < V2_SIGNATURE.length ? incomplete(V2_FIXED_LENGTH) : parseV2(data)
  }
  if (startsWithPrefixOf(data, V1_PREFIX)) {
    return data.length < V1_PREFIX.length ? incomplete(data.length + 1) : parseV1(data)
  }
  return invalid('no PROXY protocol header')
}

/** Whether `data` and `prefix` agree on their common length. */
function startsWithPrefixOf(data: Buffer, prefix: Buffer): boolean {
  const n = Math.min(data.length, prefix.length)
  return data.subarray(0, n).equals(prefix.subarray(0, n))
}

function parseV1(data: Buffer): ProxyHeaderResult {
  const window = data.subarray(0, V1_MAX_LENGTH)
  const end = window.indexOf('\r\n')
  const lineFeed = window.indexOf('\n')
  if (lineFeed !== -1 && lineFeed !== end + 1) {
    return invalid('v1 header must end with CRLF')
  }
  if (end === -1) {
    return data.length >= V1_MAX_LENGTH
      ? invalid('v1 header longer than 107 bytes')
      : incomplete(data.length + 1)
  }
  const length = end + 2
  const line = data.toString('latin1', V1_PREFIX.length, end)
  // §2.1: after UNKNOWN the receiver ignores the rest of the line and keeps the real addresses.
  if (line === 'UNKNOWN' || line.startsWith('UNKNOWN ')) {
    return { kind: 'header', header: { version: 1, addresses: undefined, length } }
  }
  const fields = line.split(' ')
  if (fields.length !== 5) {
    return invalid('v1 header must be PROXY TCP4|TCP6 SRC DST SPORT DPORT')
  }
  const [protocol = '', source = '', destination = '', sourcePort = '', destinationPort = ''] =
    fields
  const family = protocol === 'TCP4' ? 'IPv4' : protocol === 'TCP6' ? 'IPv6' : undefined
  if (!family) {
    return invalid(`v1 protocol must be TCP4, TCP6 or UNKNOWN, got ${JSON.stringify(protocol)}`)
  }
  // isIPv6 also takes a zone identifier (`fe80::1%eth0`), which names an interface of the
  // balancer, not an address of the client.
  const isAddress =
    family === 'IPv4' ? isIPv4 : (text: string) => isIPv6(text) && !text.includes('%')
  if (!isAddress(source) || !isAddress(destination)) {
    return invalid(`v1 addresses are not ${family} addresses`)
  }
  const ports = [v1Port(sourcePort), v1Port(destinationPort)] as const
  if (ports[0] === undefined || ports[1] === undefined) {
    return invalid('v1 ports must be decimal numbers from 0 to 65535')
  }
  const addresses: ProxiedAddresses = {
    family,
    source: { address: source, port: ports[0] },
    destination: { address: destination, port: ports[1] },
  }
  return { kind: 'header', header: { version: 1, addresses, length } }
}

/** §2.1: a port is a decimal number in [0..65535], without leading zeros. */
function v1Port(text: string): number | undefined {
  if (!/^(?:0|[1-9]\d{0,4})$/.test(text)) {
    return undefined
  }
  const port = Number(text)
  return port <= 0xffff ? port : undefined
}

const V2_LOCAL = 0x20
const V2_PROXY = 0x21
/** §2.2: address family (high nibble: UNSPEC, INET, INET6, UNIX) and transport (low nibble). */
const AF_UNSPEC = 0x0
const AF_INET = 0x1
const AF_UNIX = 0x3
const TRANSPORT_UNSPEC = 0x0
const TRANSPORT_STREAM = 0x1
const TRANSPORT_DGRAM = 0x2
const INET_ADDRESSES_LENGTH = 12
const INET6_ADDRESSES_LENGTH = 36
const UNIX_ADDRESSES_LENGTH = 216

function parseV2(data: Buffer): ProxyHeaderResult {
  if (data.length < V2_FIXED_LENGTH) {
    // Reject a wrong version or command as soon as its byte is in.
    const command = data[12]
    return command === undefined || command === V2_LOCAL || command === V2_PROXY
      ? incomplete(V2_FIXED_LENGTH)
      : invalid(`v2 version/command byte 0x${command.toString(16)} is not LOCAL or PROXY`)
  }
  const command = data.readUInt8(12)
  if (command !== V2_LOCAL && command !== V2_PROXY) {
    return invalid(`v2 version/command byte 0x${command.toString(16)} is not LOCAL or PROXY`)
  }
  const familyByte = data.readUInt8(13)
  const family = familyByte >> 4
  const transport = familyByte & 0x0f
  if (family > AF_UNIX || transport > TRANSPORT_DGRAM) {
    return invalid(`v2 family/transport byte 0x${familyByte.toString(16)} is not defined`)
  }
  const length = V2_FIXED_LENGTH + data.readUInt16BE(14)
  if (data.length < length) {
    return incomplete(length)
  }
  // §2.2: LOCAL is the balancer speaking for itself (health checks); its addresses are ignored.
  if (command === V2_LOCAL || family === AF_UNSPEC) {
    return { kind: 'header', header: { version: 2, addresses: undefined, length } }
  }
  if (transport !== TRANSPORT_STREAM && transport !== TRANSPORT_UNSPEC) {
    return invalid('v2 header describes a datagram, not a stream connection')
  }
  const block = data.subarray(V2_FIXED_LENGTH, length)
  if (family === AF_UNIX) {
    if (block.length < UNIX_ADDRESSES_LENGTH) {
      return invalid('v2 length is shorter than its UNIX addresses')
    }
    return { kind: 'header', header: { version: 2, addresses: undefined, length } }
  }
  const inet = family === AF_INET
  if (block.length < (inet ? INET_ADDRESSES_LENGTH : INET6_ADDRESSES_LENGTH)) {
    return invalid(`v2 length is shorter than its ${inet ? 'IPv4' : 'IPv6'} addresses`)
  }
  const size = inet ? 4 : 16
  const format = inet ? formatIPv4 : formatIPv6
  const ports = 2 * size
  // What follows the addresses (TLVs: ALPN, authority, CRC, SSL...) is skipped: nothing needs it.
  const addresses: ProxiedAddresses = {
    family: inet ? 'IPv4' : 'IPv6',
    source: { address: format(block.subarray(0, size)), port: block.readUInt16BE(ports) },
    destination: {
      address: format(block.subarray(size, 2 * size)),
      port: block.readUInt16BE(ports + 2),
    },
  }
  return { kind: 'header', header: { version: 2, addresses, length } }
}

function formatIPv4(bytes: Buffer): string {
  return Array.from(bytes).join('.')
}

/**
 * RFC 5952 text, as Node shows peers: WHATWG URL's serializer compresses the longest run of zero
 * groups; an IPv4-mapped address keeps its dotted tail (`::ffff:192.0.2.1`).
 */
function formatIPv6(bytes: Buffer): string {
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(2 * i))
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIPv4(bytes.subarray(12))}`
  }
  const expanded = groups.map((group) => group.toString(16)).join(':')
  return new URL(`http://[${expanded}]/`).hostname.slice(1, -1)
}
