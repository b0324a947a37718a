/** The SOCKS5 message parsers, table-driven: no sockets. */
import {
  basicAuthorization,
  parseCredentials,
  parseGreeting,
  parseRequest,
  replyBytes,
} from '../src/inbound/socks5'

const bytes = (...values: number[]) => Buffer.from(values)
const name = (text: string) => [text.length, ...Buffer.from(text)]

describe('parseGreeting', () => {
  it.each([
    ['nothing yet', bytes(), { kind: 'incomplete' }],
    ['the version only', bytes(5), { kind: 'incomplete' }],
    ['fewer methods than announced', bytes(5, 2, 0), { kind: 'incomplete' }],
  ])('waits for more on %s', (_name, input, expected) => {
    expect(parseGreeting(input)).toEqual(expected)
  })

  it('reads the methods and the length they took', () => {
    const parsed = parseGreeting(bytes(5, 2, 0, 2, 0x99))
    expect(parsed).toEqual({ kind: 'done', value: new Set([0, 2]), length: 4 })
  })

  it.each([
    ['SOCKS4', bytes(4, 1, 0, 80)],
    ['no methods', bytes(5, 0)],
  ])('refuses %s', (_name, input) => {
    expect(parseGreeting(input).kind).toBe('invalid')
  })
})

describe('parseCredentials', () => {
  it('reads the username and password as bytes', () => {
    const parsed = parseCredentials(bytes(1, ...name('alice'), ...name('pw'), 0xff))
    expect(parsed.kind === 'done' && parsed.length).toBe(10)
    if (parsed.kind === 'done') {
      expect(basicAuthorization(parsed.value)).toBe(
        `Basic ${Buffer.from('alice:pw').toString('base64')}`
      )
    }
  })

  it.each([
    ['no password length', bytes(1, ...name('alice'))],
    ['a short password', bytes(1, ...name('alice'), 3, 0x61)],
  ])('waits for more on %s', (_name, input) => {
    expect(parseCredentials(input).kind).toBe('incomplete')
  })

  it('refuses another sub-negotiation version', () => {
    expect(parseCredentials(bytes(5, 1, 0x61, 1, 0x62)).kind).toBe('invalid')
  })

  it('gives no authorization for a username with a colon', () => {
    expect(basicAuthorization({ username: Buffer.from('a:b'), password: Buffer.from('') })).toBe(
      undefined
    )
  })
})

describe('parseRequest', () => {
  it.each([
    ['a domain', bytes(5, 1, 0, 3, ...name('example.com'), 0x01, 0xbb), 'example.com:443'],
    ['IPv4', bytes(5, 1, 0, 1, 10, 1, 2, 3, 0x1f, 0x40), '10.1.2.3:8000'],
    [
      'IPv6',
      bytes(5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 80),
      '[2001:db8:0:0:0:0:0:1]:80',
    ],
    ['an IPv6 literal sent as a name', bytes(5, 1, 0, 3, ...name('::1'), 0, 80), '[::1]:80'],
  ])('reads the CONNECT target of %s', (_name, input, target) => {
    expect(parseRequest(input)).toMatchObject({ kind: 'done', value: target, length: input.length })
  })

  it.each([
    ['the header only', bytes(5, 1, 0, 1)],
    ['a short IPv4 address', bytes(5, 1, 0, 1, 10, 1)],
    ['a domain without its port', bytes(5, 1, 0, 3, ...name('example.com'))],
  ])('waits for more on %s', (_name, input) => {
    expect(parseRequest(input).kind).toBe('incomplete')
  })

  it.each([
    ['BIND', bytes(5, 2, 0, 1, 1, 2, 3, 4, 0, 80), 0x07],
    ['UDP ASSOCIATE', bytes(5, 3, 0, 1, 1, 2, 3, 4, 0, 80), 0x07],
    ['address type 9', bytes(5, 1, 0, 9, 1, 2, 3, 4, 0, 80), 0x08],
    ['another version', bytes(4, 1, 0, 1, 1, 2, 3, 4, 0, 80), undefined],
  ])('refuses %s with the reply it calls for', (_name, input, reply) => {
    const parsed = parseRequest(input)
    expect(parsed.kind).toBe('invalid')
    expect(parsed.kind === 'invalid' && parsed.reply).toBe(reply ?? undefined)
  })
})

describe('replyBytes', () => {
  it('answers with the code and a zero IPv4 bound address', () => {
    expect(replyBytes(0x02).toString('hex')).toBe('05020001000000000000')
  })
})
