/**
 * The SOCKS5 messages (RFC 1928 greeting and request, RFC 1929 username/password): each parser is
 * fed the bytes so far, so what it says of a prefix must agree with what it says of the whole.
 */
import { isDeepStrictEqual } from 'node:util'
import { check } from './_check'
import { parseAuthority, parseCredentials, parseGreeting, parseRequest } from './_imports'

type Parser = (
  bytes: Buffer
) => ReturnType<typeof parseGreeting | typeof parseRequest | typeof parseCredentials>

const PARSERS: [string, Parser][] = [
  ['greeting', parseGreeting],
  ['credentials', parseCredentials],
  ['request', parseRequest],
]

export function fuzz(data: Buffer): void {
  for (const [message, parse] of PARSERS) {
    const result = parse(data)
    if (result.kind === 'incomplete') {
      continue
    }
    if (result.kind === 'invalid') {
      check(!result.reason.includes('\n'), 'a refusal is one line', { message, data, result })
      continue
    }
    const { length } = result
    check(length >= 2 && length <= data.length, 'a message never takes more bytes than given', {
      message,
      data,
      length,
    })
    const whole = data.subarray(0, length)
    check(isDeepStrictEqual(parse(whole), result), 'the message alone parses the same', {
      message,
      data,
      result,
    })
    // Bytes arrive in pieces: every shorter prefix waits for more, none is refused or taken.
    for (let end = 0; end < length; end++) {
      const partial = parse(data.subarray(0, end))
      check(partial.kind === 'incomplete', 'a prefix of a message is incomplete', {
        message,
        data,
        end,
        partial,
      })
    }
  }

  const request = parseRequest(data)
  if (request.kind === 'done') {
    const port = data.readUInt16BE(request.length - 2)
    check(request.value.endsWith(`:${port}`), 'the target names the port sent', { data, request })
    const authority = parseAuthority(request.value)
    check(authority === undefined || authority.port === port, 'admission reads the same port', {
      data,
      request,
      authority,
    })
    if (data[3] !== 0x03) {
      // An IPv4 or IPv6 address is always a valid host, with a port from 1 on.
      check(authority !== undefined || port === 0, 'an address target is admitted', {
        data,
        request,
      })
    }
  }
  const greeting = parseGreeting(data)
  if (greeting.kind === 'done') {
    const offered = data.subarray(2, greeting.length)
    check(
      [...greeting.value].every((method) => offered.includes(method)),
      'only offered methods',
      {
        data,
        greeting,
      }
    )
  }
  const credentials = parseCredentials(data)
  if (credentials.kind === 'done') {
    const { username, password } = credentials.value
    check(
      username.length === data[1] && password.length === data[2 + username.length],
      'the lengths sent',
      {
        data,
        credentials,
      }
    )
  }
}
