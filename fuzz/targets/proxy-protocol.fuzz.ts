/**
 * PROXY protocol v1 and v2 (what a load balancer says about the client): a header must be
 * self-delimiting, never read past the bytes given, and say the same once re-encoded.
 */
import { isIPv4, isIPv6 } from 'node:net'
import { isDeepStrictEqual } from 'node:util'
import { check } from './_check'
import { ipAddressBytes, normalizeHost, parseProxyHeader, V2_MAX_LENGTH } from './_imports'
import type { ProxiedAddresses } from './_imports'

const SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1')

/** An address as the 4 or 16 bytes of a v2 header. */
function addressBytes(address: string): Uint8Array {
  return ipAddressBytes(normalizeHost(address))
}

/** A v2 PROXY/TCP header for `addresses`, written independently of the parser. */
function encodeV2({ family, source, destination }: ProxiedAddresses): Buffer {
  const size = family === 'IPv4' ? 4 : 16
  const block = Buffer.alloc(2 * size + 4)
  block.set(addressBytes(source.address), 0)
  block.set(addressBytes(destination.address), size)
  block.writeUInt16BE(source.port, 2 * size)
  block.writeUInt16BE(destination.port, 2 * size + 2)
  const head = Buffer.from([0x21, family === 'IPv4' ? 0x11 : 0x21, 0, block.length])
  return Buffer.concat([SIGNATURE, head, block])
}

function encodeV1({ family, source, destination }: ProxiedAddresses): Buffer {
  const protocol = family === 'IPv4' ? 'TCP4' : 'TCP6'
  return Buffer.from(
    `PROXY ${protocol} ${source.address} ${destination.address} ${source.port} ${destination.port}\r\n`,
    'latin1'
  )
}

/**
 * The prefixes worth trying: all of a v1 line, the fixed part and the ends of a v2 header. Not the
 * empty one: no read gives zero bytes, and with none the parser asks for a v2 header's 16.
 */
function prefixLengths(length: number): number[] {
  if (length <= 128) {
    return Array.from({ length: length - 1 }, (_, i) => i + 1)
  }
  const step = Math.ceil(length / 32)
  const ends = [
    ...Array.from({ length: 17 }, (_, i) => i),
    ...Array.from({ length: 32 }, (_, i) => i * step),
    length - 1,
  ]
  return ends.filter((end) => end > 0 && end < length)
}

export function fuzz(data: Buffer): void {
  const result = parseProxyHeader(data)
  if (result.kind === 'invalid') {
    check(!result.reason.includes('\n'), 'a refusal is one line', { data, result })
    return
  }
  if (result.kind === 'incomplete') {
    check(
      result.needed > data.length && result.needed <= V2_MAX_LENGTH,
      'it waits for more bytes, boundedly',
      {
        data,
        result,
      }
    )
    return
  }
  const { header } = result
  check(header.length <= data.length, 'a header never takes more bytes than given', {
    data,
    header,
  })
  const alone = parseProxyHeader(data.subarray(0, header.length))
  check(isDeepStrictEqual(alone, result), 'the header alone parses the same', {
    data,
    result,
    alone,
  })
  for (const end of prefixLengths(header.length)) {
    const partial = parseProxyHeader(data.subarray(0, end))
    check(
      partial.kind === 'incomplete' && partial.needed > end && partial.needed <= header.length,
      'a prefix of a header waits for no more than the header',
      { data, end, partial, header }
    )
  }
  const { addresses } = header
  if (addresses === undefined) {
    return
  }
  const isAddress = addresses.family === 'IPv4' ? isIPv4 : isIPv6
  for (const side of [addresses.source, addresses.destination]) {
    check(
      isAddress(side.address) && !side.address.includes('%'),
      'an address of its family, no zone',
      {
        data,
        addresses,
      }
    )
    check(Number.isInteger(side.port) && side.port >= 0 && side.port <= 0xffff, 'a 16-bit port', {
      data,
      addresses,
    })
  }
  // Re-encoded as v2, the same addresses come back, in the canonical text v2 gives.
  const v2 = parseProxyHeader(encodeV2(addresses))
  check(v2.kind === 'header' && v2.header.addresses !== undefined, 'its v2 encoding parses', {
    data,
    addresses,
    v2,
  })
  if (v2.kind !== 'header' || v2.header.addresses === undefined) {
    return
  }
  const canonical = v2.header.addresses
  for (const side of ['source', 'destination'] as const) {
    check(
      Buffer.from(addressBytes(canonical[side].address)).equals(
        addressBytes(addresses[side].address)
      ) && canonical[side].port === addresses[side].port,
      'v2 carries the same address and port',
      { data, addresses, canonical }
    )
  }
  const v2again = parseProxyHeader(encodeV2(canonical))
  check(isDeepStrictEqual(v2again, v2), 'v2 text is stable', { data, v2, v2again })
  // And the canonical text is what a v1 line may carry.
  const v1 = parseProxyHeader(encodeV1(canonical))
  check(
    v1.kind === 'header' && isDeepStrictEqual(v1.header.addresses, canonical),
    'v1 says the same',
    {
      data,
      canonical,
      v1,
    }
  )
}
