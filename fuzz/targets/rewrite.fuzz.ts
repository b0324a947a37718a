/**
 * The rewrite into the app's request (rewriteRequest): whatever headers a client sends, the app
 * sees none of the stripped ones, on `rawHeaders` (plain requests) or `headers` (WebSocket
 * upgrades), and exactly one Host (over HTTP/2 one :authority too) and one proxy-host header when
 * the rewrite sets them.
 */
import { check, headersOf, requestHead } from './_check'
import { rewriteRequest, STRIPPED_HEADERS } from './_imports'
import type { RewritableRequest, Rewrite } from './_imports'

const REWRITES: Rewrite[] = [
  {
    path: '/prefix/https://example.com/a',
    host: 'example.com',
    proxyHost: 'wsgiprox',
    scheme: 'https',
  },
  { path: '/', host: '[::1]:8080', proxyHost: 'wsgiprox' },
  { proxyHost: 'wsgiprox' },
  {},
]

export function fuzz(data: Buffer): void {
  const head = requestHead(data.toString('latin1'))
  for (const rewrite of REWRITES) {
    const request: RewritableRequest = {
      url: head.url,
      httpVersionMajor: head.httpVersionMajor,
      rawHeaders: [...head.rawHeaders],
      headers: headersOf(head.rawHeaders),
    }
    rewriteRequest(request, rewrite)
    const raw = request.rawHeaders
    const context = { input: data.toString('latin1'), rewrite, raw, headers: request.headers }
    check(raw.length % 2 === 0, 'raw headers stay name/value pairs', context)
    check(request.url === (rewrite.path ?? head.url), 'the url is the rewrite path', context)
    const names = raw.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase())
    const values = (name: string) =>
      raw.filter((_, i) => i % 2 === 1 && names[(i - 1) / 2] === name)
    for (const stripped of STRIPPED_HEADERS) {
      const expected = stripped === 'x-wsgiprox-proxy-host' ? rewrite.proxyHost : undefined
      const kept = values(stripped)
      check(
        expected === undefined ? kept.length === 0 : kept.length === 1 && kept[0] === expected,
        `${stripped} in rawHeaders is only the proxy's`,
        context
      )
      const header = request.headers[stripped]
      check(header === expected, `${stripped} in headers is only the proxy's`, context)
    }
    if (rewrite.host !== undefined) {
      // HTTP/1.x carries one Host; HTTP/2 one :authority and the Host the app sees beside it.
      const names = head.httpVersionMajor === 2 ? ['host', ':authority'] : ['host']
      for (const name of names) {
        const hosts = values(name)
        check(
          hosts.length === 1 && hosts[0] === rewrite.host,
          `one ${name}, the admitted one`,
          context
        )
        check(request.headers[name] === rewrite.host, `headers name the admitted host`, context)
      }
      if (head.httpVersionMajor !== 2) {
        check(values(':authority').length === 0, 'no :authority on HTTP/1.x', context)
        check(request.headers[':authority'] === undefined, 'no second host in headers', context)
      }
    }
    // Every other header reaches the app as sent, in order.
    const ignored = new Set([...STRIPPED_HEADERS, 'host', ':authority', ':scheme'])
    const sent = head.rawHeaders.filter(
      (_, i) => !ignored.has((head.rawHeaders[i - (i % 2)] ?? '').toLowerCase())
    )
    const seen = raw.filter((_, i) => !ignored.has((raw[i - (i % 2)] ?? '').toLowerCase()))
    check(sent.join('\n') === seen.join('\n'), 'other headers pass unchanged', context)
  }
}
