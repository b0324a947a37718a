import {
  fullUrl,
  hostPort,
  originOf,
  parseAbsoluteTarget,
  parseAuthority,
  pathOf,
  hasDotSegment,
  unsafePathReason,
} from '../src/admission/target'

describe('parseAuthority', () => {
  it.each([
    ['example.com:443', undefined, { host: 'example.com', port: 443 }],
    ['Example.COM:8443', undefined, { host: 'example.com', port: 8443 }],
    ['example.com.:443', undefined, { host: 'example.com', port: 443 }],
    ['[::1]:443', undefined, { host: '::1', port: 443 }],
    ['[0:0::1]:443', undefined, { host: '::1', port: 443 }],
    ['127.0.0.1:80', undefined, { host: '127.0.0.1', port: 80 }],
    ['example.com', 80, { host: 'example.com', port: 80 }],
    ['example.com:', 443, { host: 'example.com', port: 443 }],
    ['[::1]:', 80, { host: '::1', port: 80 }],
    ['my_host.example.com:1', undefined, { host: 'my_host.example.com', port: 1 }],
  ])('parses %s', (authority, defaultPort, expected) => {
    expect(parseAuthority(authority, defaultPort)).toEqual(expected)
  })

  it.each([
    'example.com',
    'example.com:',
    'example.com:0',
    'example.com:70000',
    ':443',
    'a b:443',
    '[zz]:443',
    '[1.2.3.4]:443',
    'user@host:443',
    'a.com/evil:443',
    'a.com?x:443',
    'a.com#x:443',
    'a.com\\x:443',
    'a..com:443',
    '::1:443',
    'a.com:443:443',
    'a.com\u0000:443',
    'a.com%2f:443',
  ])('refuses %j without a default port', (authority) => {
    expect(parseAuthority(authority, undefined)).toBeUndefined()
  })
})

describe('parseAbsoluteTarget', () => {
  it.each([
    [
      'http://example.com:8000/a?b',
      { scheme: 'http', host: 'example.com', port: 8000, path: '/a?b' },
    ],
    ['http://example.com', { scheme: 'http', host: 'example.com', port: 80, path: '/' }],
    ['HTTPS://EXAMPLE.com/x', { scheme: 'https', host: 'example.com', port: 443, path: '/x' }],
    ['http://[::1]:8080/', { scheme: 'http', host: '::1', port: 8080, path: '/' }],
    ['http://example.com?q', { scheme: 'http', host: 'example.com', port: 80, path: '/?q' }],
    ['http://example.com:/a', { scheme: 'http', host: 'example.com', port: 80, path: '/a' }],
  ])('reads %s', (url, expected) => {
    expect(parseAbsoluteTarget(url)).toEqual(expected)
  })

  it.each([
    ['http://example.com/', 8080],
    ['http://example.com:/', 8080],
    ['http://example.com:80/', 80],
    ['https://example.com:443/', 443],
    ['https://example.com:8443/', 8443],
  ])('reads the port of %s, given 8080 for a URL without one, as %d', (url, port) => {
    expect(parseAbsoluteTarget(url, 8080)).toMatchObject({ host: 'example.com', port })
  })

  it('leaves origin-form and other targets to the caller', () => {
    expect(parseAbsoluteTarget('/a')).toBeUndefined()
    expect(parseAbsoluteTarget('*')).toBeUndefined()
    expect(parseAbsoluteTarget('ftp://example.com/')).toBeUndefined()
  })

  it.each([
    'http://exa mple.com/',
    'http:///path',
    'http://a@b/',
    'http://example.com:99999/',
    'http://a.com\\evil/',
    'http://a.com%2fevil/',
  ])('refuses the invalid absolute URL %j with a reason', (url) => {
    expect(parseAbsoluteTarget(url)).toBeInstanceOf(Error)
  })
})

describe('originOf and hostPort', () => {
  it.each([
    ['https', 'example.com', 443, 'https://example.com'],
    ['https', 'example.com', 123, 'https://example.com:123'],
    ['http', 'example.com', 80, 'http://example.com'],
    ['http', 'example.com', 443, 'http://example.com:443'],
    ['https', '::1', 8443, 'https://[::1]:8443'],
  ])('shows the port only when it is not the default: %s %s %d', (scheme, host, port, expected) => {
    expect(originOf(scheme, host, port)).toBe(expected)
    expect(hostPort(scheme, host, port)).toBe(expected.slice(expected.indexOf('//') + 2))
  })
})

describe('fullUrl', () => {
  it.each([
    ['/a/b?c=d', 'http://example.com/a/b?c=d'],
    ['/a/../../../../b/x', 'http://example.com/b/x'],
    ['/a/./b/../c', 'http://example.com/a/c'],
    ['/%2e%2e/%2E%2e/x', 'http://example.com/x'],
    ['/a/.%2e/b', 'http://example.com/b'],
    ['/a\\..\\..\\b', 'http://example.com/b'],
    ['/a b"<>', 'http://example.com/a%20b%22%3C%3E'],
    ['//double//slash', 'http://example.com//double//slash'],
    ['/x?../../y', 'http://example.com/x?../../y'],
    ['/.well-known/x', 'http://example.com/.well-known/x'],
  ])('normalises %j as browsers do', (path, expected) => {
    expect(fullUrl('http://example.com', path)).toBe(expected)
  })

  it('gives back the path and query of a full URL', () => {
    expect(pathOf('https://example.com:8443/a?b')).toBe('/a?b')
    expect(pathOf('http://[::1]/')).toBe('/')
  })
})

describe('hasDotSegment', () => {
  it.each([
    ['.', true],
    ['..', true],
    ['/.', true],
    ['/..', true],
    ['/a/..', true],
    ['/a/./b', true],
    ['/a/%2e/b', true],
    ['/a/%2E%2e/b', true],
    ['/a/.%2e', true],
    ['./a', true],
    ['/a//../b', true],
    ['/', false],
    ['', false],
    ['/a/.b/..c/...', false],
    ['/a/%2e%2e%2e', false],
    ['/a/b.', false],
    ['/a/..b', false],
    ['/a%2e/b', false],
    ['/%2ea', false],
    ['/prefix/http://example.com/a.b/c..d', false],
  ])('%j: %s', (path, expected) => {
    expect(hasDotSegment(path)).toBe(expected)
  })
})

describe('unsafePathReason', () => {
  it.each(['/prefix/http://example.com/a?b', '/', '/a/b%20c?x=/../..', '/a/.b/..c/...'])(
    'accepts %j',
    (path) => {
      expect(unsafePathReason(path)).toBeUndefined()
    }
  )

  it.each([
    [undefined, 'not a path'],
    [null, 'not a path'],
    [42, 'not a path'],
    [{}, 'not a path'],
    ['', 'does not start with /'],
    ['relative/path', 'does not start with /'],
    ['/../x', "'.' or '..' segment"],
    ['/a/./b', "'.' or '..' segment"],
    ['/%2e%2E/x', "'.' or '..' segment"],
    ['/a/..', "'.' or '..' segment"],
    ['/a\\b', 'backslash'],
    ['/a#b', "'#'"],
    ['/a b', 'space'],
    ['/a\r\nX-Evil: 1', 'control character'],
  ])('refuses %j (%s)', (path, reason) => {
    expect(unsafePathReason(path)).toContain(reason)
  })
})
