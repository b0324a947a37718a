/**
 * `createProxy`: the certificate authority, the dispatcher and the app server, composed, and
 * hooked onto a Node server by `listen` or `attach`.
 * @module
 */
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { CertificateAuthority } from './ca/authority'
import { Connections } from './connections'
import { createDispatcher } from './dispatch'
import { createDownloadApp } from './downloads'
import type { Handler } from './fetch-handler'
import { toFallthroughHandler } from './fetch-handler'
import { installListener } from './listener'
import { normalizeOptions, openCa } from './options'
import { FixedResolver } from './resolvers'
import { createAppServer } from './server'
import type { TranslateContext } from './translate'
import { PROXY_HOST_HEADER, resolverRequest, stripProxyHeaders } from './translate'
import type { App, Proxy, ProxyOptions } from './types'

/** The port `listen()` uses when none is given, as in the original wsgiprox examples. */
export const DEFAULT_PORT = 8080

/** The address `listen()` uses when none is given: this machine only. */
export const DEFAULT_HOST = '127.0.0.1'

/**
 * Make a proxy whose every request is answered by `app`.
 * @example
 * const proxy = createProxy(app, { prefix: '/prefix/' })
 * await proxy.listen(8080, '127.0.0.1')
 * // curl -x 127.0.0.1:8080 http://example.com/ → app sees /prefix/http://example.com/
 */
export function createProxy(app: App, options: ProxyOptions = {}): Proxy {
  const opts = normalizeOptions(options)
  let caPromise: Promise<CertificateAuthority> | undefined
  const getCa = () => (caPromise ??= openCa(opts.ca))

  const hostApps = new Map<string, Handler>()
  if (opts.enableCertDownload) {
    hostApps.set(opts.downloadHost, toFallthroughHandler(createDownloadApp(getCa)))
  }
  for (const [host, hostApp] of opts.proxyApps) {
    if (hostApp !== null) {
      hostApps.set(host, toFallthroughHandler(hostApp))
    }
  }
  const dispatcher = createDispatcher(app, hostApps, opts.onError)
  const appServer = createAppServer(
    (request, env) => dispatcher.fetch(request, env),
    opts.websocketServer
  )
  const connections = new Connections(opts.keepaliveMax)
  const proxyHosts = new Set([opts.proxyHost, opts.downloadHost, ...opts.proxyApps.keys()])
  const resolver = opts.resolver
  const context: TranslateContext = {
    proxyHost: opts.proxyHost,
    proxyHosts,
    // The default resolver never looks at the request, so none is built for it.
    resolve:
      resolver instanceof FixedResolver
        ? (url: string) => resolver.resolve(url)
        : (url, incoming, tunnel) => resolver.resolve(url, resolverRequest(incoming, url, tunnel)),
  }
  const deps = {
    options: opts,
    connections,
    context,
    dispatcher,
    appServer,
    getCa,
  }
  const attached = new Map<Server, () => void>()

  const proxy: Proxy = {
    async listen(port = DEFAULT_PORT, host = DEFAULT_HOST) {
      // Open the CA first, so a broken CA file fails here rather than at the first CONNECT.
      await getCa()
      const server = createServer()
      proxy.attach(server)
      server.listen(port, host)
      await once(server, 'listening')
      return server
    },

    attach(server) {
      if (attached.has(server)) {
        return server
      }
      // The proxy's listener takes over: origin-form requests still reach the main app.
      server.removeAllListeners('request')
      server.removeAllListeners('upgrade')
      attached.set(server, installListener(server, deps))
      getCa().catch((error: unknown) => {
        opts.onError(error instanceof Error ? error : new Error(String(error)), { phase: 'ca' })
      })
      return server
    },

    async close() {
      const closing = [...attached.keys()].map((server) => {
        const closed = server.listening ? once(server, 'close') : Promise.resolve()
        server.close()
        server.closeAllConnections()
        return closed
      })
      connections.closeAll()
      attached.forEach((detach) => {
        detach()
      })
      attached.clear()
      appServer.close()
      await Promise.all(closing)
    },

    fetch(request, env) {
      if (request.method === 'CONNECT') {
        return Promise.resolve(
          new Response('HTTPS Proxy Not Supported\n', {
            status: 405,
            statusText: 'HTTPS Proxy Not Supported',
            headers: { 'content-type': 'text/plain; charset=utf-8' },
          })
        )
      }
      // Without the socket, proxy traffic cannot be told from direct traffic: only the Host
      // header routes, and the client cannot forge the proxy-host header.
      const headers = new Headers(request.headers)
      stripProxyHeaders(headers)
      const host = new URL(request.url).hostname.toLowerCase()
      const isProxyHost = proxyHosts.has(host)
      if (isProxyHost) {
        headers.set(PROXY_HOST_HEADER, host)
      }
      const forwarded = new Request(request, { headers })
      return Promise.resolve(dispatcher.handle(forwarded, env, isProxyHost ? host : undefined))
    },

    getCertificateAuthority: getCa,
  }
  return proxy
}
