/**
 * Admission (createGate().admitRequest and admitTunnel) with a FixedResolver and with a function
 * resolver: every path the app gets begins with the resolver's prefix and climbs nowhere, a
 * request inside a tunnel stays on the tunnel's host and credentials, and every refusal is a
 * status with a one-line reason.
 */
import { check, headersOf, requestHead } from './_check'
import {
  createGate,
  FixedResolver,
  fullUrl,
  pathOf,
  rewriteRequest,
  STRIPPED_HEADERS,
  unsafePathReason,
} from './_imports'
import type { Admission, AskedRequest, Resolver, TunnelIdentity } from './_imports'

const PROXY_HOST = 'wsgiprox'
const TUNNEL: TunnelIdentity = {
  host: 'example.com',
  port: 443,
  authorization: 'Basic YWxpY2U6cHc=',
  scheme: 'https',
}

/** What the function resolver was last shown. */
let shown: { url: string; authorization: string | null } | undefined
let reported = 0
/** Read through a call: the resolver sets it behind the type checker's back. */
const lastShown = () => shown

const functionResolver: Resolver = {
  requireAuth: (request) => (request.headers.has('proxy-authorization') ? undefined : 'log in'),
  resolve: (url, request) => {
    shown = { url, authorization: request.headers.get('proxy-authorization') }
    return `/fn/${url}`
  },
}

const gates = [
  { prefix: '/prefix/', resolver: new FixedResolver('/prefix/') },
  { prefix: '/fn/', resolver: functionResolver },
].map(({ prefix, resolver }) => ({
  prefix,
  fixed: resolver instanceof FixedResolver,
  gate: createGate({
    resolver,
    proxyHost: PROXY_HOST,
    proxyHosts: new Set([PROXY_HOST]),
    downloadHost: PROXY_HOST,
    admissionTimeoutMs: 1000,
    pac: true,
    onError: () => {
      reported++
    },
  }),
}))

const STATUSES = new Set([400, 405, 421, 500])

export function fuzz(data: Buffer): void {
  const input = data.toString('latin1')
  const head = requestHead(input)
  const asked = (): AskedRequest => ({
    method: head.method,
    url: head.url,
    rawHeaders: [...head.rawHeaders],
    headers: headersOf(head.rawHeaders),
    socket: { localAddress: '127.0.0.1', localPort: 8080 },
  })
  const sentAuthorization = asked().headers['proxy-authorization']
  for (const { prefix, fixed, gate } of gates) {
    for (const tunnel of [undefined, TUNNEL]) {
      shown = undefined
      reported = 0
      const admission = gate.admitRequest(tunnel, asked())
      check(!(admission instanceof Promise), 'synchronous callbacks decide synchronously', {
        input,
      })
      const decision = admission as Admission
      const context = { input, prefix, tunnel: tunnel !== undefined, decision, shown: lastShown() }
      if (decision.kind === 'passthrough') {
        check(
          !tunnel && head.url.startsWith('/'),
          'only origin-form passes through, never in a tunnel',
          context
        )
        continue
      }
      if (decision.kind === 'refuse') {
        check(
          STATUSES.has(decision.status) && !/[\r\n]/.test(decision.message),
          'a status and a one-line reason',
          context
        )
        check(
          decision.status !== 500 || (!fixed && reported === 1),
          'only a failed callback is a 500, reported once',
          {
            ...context,
            reported,
          }
        )
        continue
      }
      if (decision.kind === 'challenge') {
        check(
          !fixed && (tunnel === undefined ? sentAuthorization === undefined : false),
          'a challenge only without credentials',
          context
        )
        continue
      }
      const { path, host, route, fullUrl: url, scheme } = decision
      const parsed = new URL(url)
      check(
        parsed.host === host && `${scheme}:` === parsed.protocol,
        'the app is told the host and scheme of the URL',
        context
      )
      check(url === fullUrl(parsed.origin, pathOf(url)), 'the full URL is normalised', context)
      if (tunnel !== undefined) {
        check(
          parsed.hostname === tunnel.host && scheme === tunnel.scheme,
          'a tunnel serves its own host only',
          context
        )
      }
      if (route === undefined) {
        check(path.startsWith(prefix), "the path begins with the resolver's prefix", context)
        check(
          fixed ? path === prefix + url : lastShown()?.url === url,
          'after the prefix, the full URL',
          context
        )
        if (!fixed) {
          const authorization = tunnel ? tunnel.authorization : sentAuthorization
          check(
            lastShown()?.authorization === (authorization ?? null),
            "the resolver sees the tunnel's credentials only",
            context
          )
        }
      } else {
        check(
          route === PROXY_HOST && parsed.hostname === PROXY_HOST,
          'a proxy-host route is for the proxy host',
          context
        )
      }
      check(unsafePathReason(path) === undefined, 'the path climbs nowhere and is not cut short', {
        ...context,
        reason: unsafePathReason(path),
      })
      // And the request the app is built from carries nothing meant for the proxy.
      const request = { ...asked(), httpVersionMajor: head.httpVersionMajor }
      rewriteRequest(request, { path, host, proxyHost: decision.proxyHost })
      const leaked = request.rawHeaders.filter(
        (name, i) =>
          i % 2 === 0 &&
          STRIPPED_HEADERS.has(name.toLowerCase()) &&
          request.rawHeaders[i + 1] !== decision.proxyHost
      )
      check(
        leaked.length === 0 && request.headers['proxy-authorization'] === undefined,
        'no proxy header reaches the app',
        {
          ...context,
          leaked,
        }
      )
    }
    if (head.method === 'CONNECT') {
      const tunnel = gate.admitTunnel(undefined, head.url, undefined)
      check(!(tunnel instanceof Promise), 'synchronous callbacks decide synchronously', { input })
      const decision = tunnel as Awaited<typeof tunnel>
      if (decision.kind === 'refuse') {
        check(
          decision.status === 400 && !/[\r\n]/.test(decision.message),
          'a bad CONNECT target is a one-line 400',
          { input, decision }
        )
      } else if (decision.kind === 'open') {
        check(decision.port >= 1 && decision.port <= 65535, 'a tunnel has a port', {
          input,
          decision,
        })
      }
    }
  }
}
