import { V2_SIGNATURE } from '../../src/inbound/proxy-protocol'

/** A v2 header as HAProxy's send-proxy-v2 writes it: signature, command, family, length, body. */
export function v2Header(
  command: number,
  family: number,
  body: Buffer | number[],
  length = Buffer.from(body).length
): Buffer {
  const head = Buffer.alloc(4)
  head.writeUInt8(command, 0)
  head.writeUInt8(family, 1)
  head.writeUInt16BE(length, 2)
  return Buffer.concat([V2_SIGNATURE, head, Buffer.from(body)])
}

/** The v2 address block of TCP over IPv4. */
export function inet(source: number[], destination: number[], ports: [number, number]): Buffer {
  const block = Buffer.alloc(12)
  Buffer.from(source).copy(block, 0)
  Buffer.from(destination).copy(block, 4)
  block.writeUInt16BE(ports[0], 8)
  block.writeUInt16BE(ports[1], 10)
  return block
}

/** The v2 address block of TCP over IPv6, addresses as 32 hex digits. */
export function inet6(source: string, destination: string, ports: [number, number]): Buffer {
  const block = Buffer.alloc(36)
  Buffer.from(source, 'hex').copy(block, 0)
  Buffer.from(destination, 'hex').copy(block, 16)
  block.writeUInt16BE(ports[0], 32)
  block.writeUInt16BE(ports[1], 34)
  return block
}

/** A TLV (PP2_TYPE_AUTHORITY, 0x02) as HAProxy adds with `proxy-v2-options authority`. */
export function authorityTlv(name: string): Buffer {
  const value = Buffer.from(name)
  const head = Buffer.alloc(3)
  head.writeUInt8(0x02, 0)
  head.writeUInt16BE(value.length, 1)
  return Buffer.concat([head, value])
}
