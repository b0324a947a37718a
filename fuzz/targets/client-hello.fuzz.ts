/**
 * The SNI name read from a ClientHello's first bytes (for a resumed TLS 1.2 session): it reads no
 * byte past the buffer, and a name read from a prefix of the bytes is the name read from all.
 */
import { check } from './_check'
import { serverNameOf } from './_imports'

export function fuzz(data: Buffer): void {
  const name = serverNameOf(data)
  if (name === undefined) {
    return
  }
  check(name.length < data.length, 'the name is made of bytes of the input', { data, name })
  check(data.includes(Buffer.from(name, 'latin1')), 'the name is bytes of the input', {
    data,
    name,
  })
  const longer = Buffer.concat([data, Buffer.alloc(16, 0xff)])
  check(serverNameOf(longer) === name, 'bytes after the name do not change it', { data, name })
}
