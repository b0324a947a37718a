/**
 * `createProxy`: the certificate authority, the dispatcher and the app server, composed, and
 * hooked onto a Node server by `listen` or `attach`.
 * @module
 */
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import { createGate } from './admission/gate'
import { createAppServer } from './app/app-server'
import { createDispatcher } from './app/dispatch'
import { createFetchEntry } from './app/fetch-entry'
import type { Handler } from './app/fetch-handler'
import { toFallthroughHandler } from './app/fetch-handler'
import { allowLateProxyApps } from './app/late-proxy-apps'
import type { CertificateAuthority } from './ca/authority'
import { onDrain } from './cluster/drain'
import { toError } from './errors'
import { installAcceptPath } from './inbound/accept'
import { Connections, openConnections } from './inbound/connections'
import { installListener } from './inbound/http1'
import { createHttp2Front } from './inbound/http2'
import type { Http2Front } from './inbound/http2'
import { createDirectHttp2 } from './inbound/http2-direct'
import { handleSocks } from './inbound/socks'
import { acceptTlsToProxy } from './inbound/tls-to-proxy'
import { recordsReported } from './log/pending'
import { createMetrics } from './metrics'
import { appOption } from './option-checks'
import { normalizeOptions, openCa } from './options'
import type { NormalizedOptions } from './options'
import { createDownloadApp } from './pages/downloads'
import { withHeadAsGet } from './pages/head'
import { inFront, pacHandler } from './pages/pac'
import type { App, Proxy, ProxyOptions } from './types'
import { oncePerError } from './util/callbacks'

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
  appOption('the app given to createProxy', app)
  const normalized = normalizeOptions(options)
  const connections = new Connections(normalized.keepaliveMax)
  const metrics = normalized.metrics
    ? createMetrics({
        tunnels: () => connections.size,
        http2Sessions: () => http2?.sessionCount ?? 0,
        connections: () => openConnections(attached.keys()),
      })
    : undefined
  const observed = metrics ? metrics.observe(normalized) : normalized
  // Outermost, so that neither the metrics nor the user's onError hear of one error twice.
  const opts: NormalizedOptions = { ...observed, onError: oncePerError(observed.onError) }
  let caPromise: Promise<CertificateAuthority> | undefined
  let stopCaListeners = () => {}
  const getCa = () =>
    (caPromise ??= openCa(opts.ca).then((ca) => {
      for (const warning of ca.warnings) {
        opts.onError(new Error(warning), { phase: 'ca' })
      }
      const stopWarnings = ca.onWarning((warning) => {
        opts.onError(new Error(warning), { phase: 'ca' })
      })
      const log = opts.onLog
      const stopLog = log
        ? ca.onIssue((event) => {
            log({ type: 'certificate', time: new Date(), ...event })
          })
        : () => {}
      stopCaListeners = () => {
        stopWarnings()
        stopLog()
      }
      return ca
    }))

  const hostApps = new Map<string, Handler>()
  if (opts.enableCertDownload) {
    hostApps.set(
      opts.downloadHost,
      withHeadAsGet(
        toFallthroughHandler(
          createDownloadApp(getCa, { socks: opts.socks, pac: opts.pac !== undefined })
        )
      )
    )
  }
  for (const [host, hostApp] of opts.proxyApps) {
    if (hostApp !== null) {
      // A proxy app named as the download host comes after the CA's pages, which stay public
      // (admission serves them without a login) and so must never be another app's.
      const pages = hostApps.get(host)
      const handler = toFallthroughHandler(hostApp)
      hostApps.set(host, pages ? inFront(pages, handler) : handler)
    }
  }
  if (opts.pac) {
    hostApps.set(opts.proxyHost, pacHandler(opts.pac, opts.socks, hostApps.get(opts.proxyHost)))
  }
  if (metrics) {
    hostApps.set(
      opts.proxyHost,
      inFront(withHeadAsGet(metrics.handler), hostApps.get(opts.proxyHost))
    )
  }
  const proxyHosts = new Set([opts.proxyHost, opts.downloadHost, ...opts.proxyApps.keys()])
  const dispatcher = createDispatcher(app, hostApps, opts.onError)
  const appServer = createAppServer(dispatcher, {
    websocketServer: opts.websocketServer,
    onError: opts.onError,
    countBytes: opts.onLog !== undefined,
    maxPayload: opts.websocketMaxPayload,
  })
  const gate = createGate({
    resolver: opts.resolver,
    proxyHost: opts.proxyHost,
    proxyHosts,
    downloadHost: opts.enableCertDownload ? opts.downloadHost : undefined,
    admissionTimeoutMs: opts.admissionTimeoutMs,
    pac: opts.pac !== undefined,
    onError: opts.onError,
  })
  const http2: Http2Front | undefined = opts.http2
    ? createHttp2Front({
        gate,
        appServer,
        onError: opts.onError,
        onLog: opts.onLog,
        lifecycle: {
          idleTimeoutMs: opts.http2IdleTimeoutMs,
          shouldClose: () => connections.shouldClose(),
        },
      })
    : undefined
  const directHttp2 = opts.http2
    ? createDirectHttp2(opts.handshakeTimeoutMs, opts.onError, opts.onLog)
    : undefined
  const deps = { options: opts, gate, connections, appServer, getCa, http2 }
  const attached = new Map<Server, () => void>()

  const proxy: Proxy = {
    async listen(port = DEFAULT_PORT, host = DEFAULT_HOST) {
      // Open the CA first, so a broken CA file fails here rather than at the first CONNECT.
      await Promise.all([getCa(), metrics?.ready])
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
      const detachAccept = installAcceptPath(server, {
        proxyProtocol: opts.proxyProtocol,
        headerTimeoutMs: opts.handshakeTimeoutMs,
        socks: opts.socks
          ? (socket) => {
              handleSocks(server, socket, deps)
            }
          : undefined,
        http2: directHttp2?.refuse,
        tls: (socket, toHttp) => {
          acceptTlsToProxy(
            socket,
            { getCa, handshakeTimeoutMs: opts.handshakeTimeoutMs, onError: opts.onError },
            toHttp
          )
        },
        onError: opts.onError,
        onLog: opts.onLog,
      })
      const detachListener = installListener(server, deps)
      // A draining server (runCluster's workers, the CLI's stop) closes what only the proxy
      // knows to be idle.
      const detachDrain = onDrain(server, () => {
        connections.closeSilent()
        http2?.drain()
      })
      attached.set(server, () => {
        detachListener()
        detachAccept()
        detachDrain()
      })
      getCa().catch((error: unknown) => {
        opts.onError(toError(error), { phase: 'ca' })
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
      stopCaListeners()
      // Before the sockets go: each session's GOAWAY must reach its client first.
      await http2?.close()
      directHttp2?.close()
      connections.closeAll()
      attached.forEach((detach) => {
        detach()
      })
      attached.clear()
      appServer.close()
      await Promise.all(closing)
      // The records of what close() cut come as their sockets close, just after.
      await recordsReported(opts.onLog)
    },

    fetch: createFetchEntry({ gate, dispatcher, proxyHosts, onError: opts.onError }),

    getCertificateAuthority: getCa,
  }
  allowLateProxyApps(proxy, (host, handler) => {
    const pages = hostApps.get(host)
    const added = toFallthroughHandler(handler)
    hostApps.set(host, pages ? inFront(pages, added) : added)
    gate.addProxyHost(host)
  })
  return proxy
}
