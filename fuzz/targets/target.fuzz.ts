/**
 * CONNECT and absolute-form targets: parseAuthority, parseAbsoluteTarget, and the full URL and
 * path (fullUrl, pathOf) that the resolver and the app are given.
 */
import { check } from './_check'
import {
  fullUrl,
  hasDotSegment,
  hostPort,
  originOf,
  parseAbsoluteTarget,
  parseAuthority,
  pathOf,
  unsafePathReason,
  validHost,
} from './_imports'

export function fuzz(data: Buffer): void {
  // Node hands request targets and header values over as latin1 strings.
  const input = data.toString('latin1')
  for (const defaultPort of [undefined, 443]) {
    const authority = parseAuthority(input, defaultPort)
    if (authority === undefined) {
      continue
    }
    const { host, port } = authority
    check(validHost(host) === host, 'the host is in its normal form', { input, authority })
    check(Number.isInteger(port) && port >= 1 && port <= 65535, 'the port is 1-65535', {
      input,
      authority,
    })
    const again = parseAuthority(hostPort('tcp', host, port))
    check(again?.host === host && again.port === port, 'host:port parses back to itself', {
      input,
      authority,
      again,
    })
  }

  const target = parseAbsoluteTarget(input)
  check((target !== undefined) === /^https?:\/\//i.test(input), 'only http(s):// is absolute', {
    input,
    target,
  })
  if (target === undefined || target instanceof Error) {
    check(!target?.message.includes('\n'), 'a refusal is one line', { input, target })
    return
  }
  const { scheme, host, port, path } = target
  check(path.startsWith('/'), 'the path starts with /', { input, target })
  const origin = originOf(scheme, host, port)
  const url = fullUrl(origin, path)
  const parsed = new URL(url)
  // WHATWG URL's `search` is '' for an empty query: the fast path keeps 'a/?' as sent, the slow
  // path gives 'a/'. Either is the same resource; the comparisons allow for it.
  const same = (a: string, b: string) => a.replace(/\?$/, '') === b.replace(/\?$/, '')
  check(parsed.origin === new URL(origin).origin, 'the path cannot change the origin', {
    input,
    origin,
    url,
  })
  check(
    same(url, `${origin}${parsed.pathname}${parsed.search}`),
    'the URL is as WHATWG URL gives it',
    {
      input,
      url,
      whatwg: parsed.href,
    }
  )
  // Node 20's URL parser leaves dot segments after a segment starting with '.' (`/a/.b/../x`),
  // which fullUrl then removes itself: compare only where the parser did its job.
  const slow = new URL(origin + path)
  const whatwgDone = !hasDotSegment(slow.pathname)
  check(
    !whatwgDone || same(url, `${origin}${slow.pathname}${slow.search}`),
    'the fast path agrees with URL',
    {
      input,
      url,
      whatwg: slow.href,
    }
  )
  const appPath = pathOf(url)
  check(same(appPath, parsed.pathname + parsed.search), 'pathOf gives the path and query', {
    input,
    url,
    appPath,
  })
  check(unsafePathReason(appPath) === undefined, 'the path is safe to hand to the app', {
    input,
    appPath,
    reason: unsafePathReason(appPath),
  })
  check(fullUrl(origin, appPath) === url, 'normalising twice changes nothing', { input, url })
}
