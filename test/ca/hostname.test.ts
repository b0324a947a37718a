import { certificateName, normalizeHost } from '../../src/ca/hostname'
import { InvalidHostError } from '../../src/errors'

describe('normalizeHost', () => {
  it.each([
    ['example.com', 'dns', 'example.com'],
    ['WWW.Example.COM', 'dns', 'www.example.com'],
    ['example.com.', 'dns', 'example.com'],
    ['bücher.de', 'dns', 'xn--bcher-kva.de'],
    ['☃.net', 'dns', 'xn--n3h.net'],
    ['my_host.example.com', 'dns', 'my_host.example.com'],
    ['localhost', 'dns', 'localhost'],
    ['127.0.0.1', 'ipv4', '127.0.0.1'],
    ['127.1', 'ipv4', '127.0.0.1'],
    ['::1', 'ipv6', '::1'],
    ['[::1]', 'ipv6', '::1'],
    ['[0:0:0:0:0:0:0:1]', 'ipv6', '::1'],
    ['2001:DB8::A', 'ipv6', '2001:db8::a'],
  ])('reads %j as %s %j', (host, kind, name) => {
    expect(normalizeHost(host)).toEqual({ kind, name })
  })

  it.each([
    ['', 'empty'],
    ['a b', 'may hold only'],
    ['exa_mple..com', 'empty labels'],
    ['-bad', "no '-' at either end"],
    ['bad-.com', "no '-' at either end"],
    [`${'a'.repeat(64)}.com`, 'longer than 63'],
    [`${'abcdefghi.'.repeat(26)}com`, 'at most 253'],
    ['http://x', 'may hold only'],
    ['example.com:443', 'may hold only'],
    ['*.example.com', 'may hold only'],
    ['[example.com]', 'brackets'],
    ['fe80::1%eth0', 'zone identifier'],
    ['1.2.3.999', 'not a DNS name'],
  ])('refuses %j with an InvalidHostError (%s)', (host, reason) => {
    const error = (() => {
      try {
        normalizeHost(host)
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(InvalidHostError)
    expect((error as InvalidHostError).host).toBe(host)
    expect((error as InvalidHostError).message).toContain(JSON.stringify(host))
    expect((error as InvalidHostError).message).toContain(reason)
  })
})

describe('certificateName', () => {
  it.each([
    ['a.b.example.com', true, '*.b.example.com'],
    ['b.example.com', true, '*.example.com'],
    ['example.com', true, 'example.com'],
    ['x.co.uk', true, 'x.co.uk'],
    ['a.x.co.uk', true, '*.x.co.uk'],
    ['a.b.test', true, '*.b.test'],
    ['b.test', true, 'b.test'],
    ['x.github.io', true, '*.github.io'],
    ['localhost', true, 'localhost'],
    ['Bücher.Example.com', true, '*.example.com'],
    ['a.b.example.com', false, 'a.b.example.com'],
    ['127.0.0.1', true, '127.0.0.1'],
    ['[::1]', true, '::1'],
  ])('names the certificate for %j (wildcard %s) %j', (host, wildcard, name) => {
    expect(certificateName(host, wildcard)).toBe(name)
  })

  it('throws InvalidHostError for an invalid host', () => {
    expect(() => certificateName('a b', true)).toThrow(InvalidHostError)
  })
})
