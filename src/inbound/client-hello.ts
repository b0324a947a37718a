/**
 * The server name a ClientHello carries, read from its bytes: OpenSSL reports none for a resumed
 * TLS 1.2 session, whose name must still be admitted (tls.ts).
 * @module
 */

/**
 * The host_name of the server_name extension (RFC 6066 §3) in a ClientHello, as Latin-1 text;
 * `undefined` when there is none, or when `bytes` do not hold the ClientHello's extensions.
 */
export function serverNameOf(bytes: Buffer): string | undefined {
  // The record header (5 bytes), the handshake header (4), the version (2) and the random (32).
  let at = 43
  const skip = (lengthBytes: number) => {
    at += lengthBytes + (at + lengthBytes <= bytes.length ? bytes.readUIntBE(at, lengthBytes) : 0)
  }
  if (bytes[0] !== 0x16 || bytes[5] !== 0x01) {
    return undefined
  }
  skip(1) // session id
  skip(2) // cipher suites
  skip(1) // compression methods
  const end = Math.min(bytes.length, at + 2 + (bytes.length >= at + 2 ? bytes.readUInt16BE(at) : 0))
  at += 2
  while (at + 4 <= end) {
    const type = bytes.readUInt16BE(at)
    const length = bytes.readUInt16BE(at + 2)
    // server_name: a list (2 bytes of length), whose first entry is of type host_name (0).
    if (type === 0 && length >= 5 && at + 4 + length <= end && bytes[at + 6] === 0) {
      const nameLength = bytes.readUInt16BE(at + 7)
      return at + 9 + nameLength <= end
        ? bytes.toString('latin1', at + 9, at + 9 + nameLength)
        : undefined
    }
    at += 4 + length
  }
  return undefined
}
