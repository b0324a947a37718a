/**
 * Public types of wsgiprox. Structural where they touch Node or `ws`, so the published
 * declarations stay small.
 * @module
 */
import type { WebSocketServerLike } from '@hono/node-server'
import type { Server } from 'node:http'
import type { CaOptions, CertificateAuthority } from './ca/authority'
import type { LogRecord } from './log/records'

/**
 * A bare Fetch handler. Returning `undefined` (from a proxy app) means "not mine": the request
 * falls through to the main app.
 */
export type FetchHandler = (
  request: Request,
  env?: unknown
) => Response | undefined | Promise<Response | undefined>

/** Anything with a Fetch-style `fetch(request, env)`: a Hono app, or `{ fetch }`. */
export interface FetchApp {
  fetch(request: Request, env?: unknown): Response | Promise<Response>
}

/** An app the proxy can serve: a Hono app, `{ fetch }`, or a bare `(request) => Response`. */
export type App = FetchApp | FetchHandler

/**
 * Per-host apps. A key is a host name; `null` makes the host an alias of the main app (the app
 * sees `X-Wsgiprox-Proxy-Host: <that host>`), an app gets the request first and what it does
 * not handle falls through to the main app.
 */
export type ProxyApps = Record<string, App | null>

/** A resolver as a function: the full URL (`https://example.com/a?b`) in, the app's path out. */
export type ResolveFunction = (url: string, request: Request) => string | Promise<string>

/** A resolver object: turns the full URL of a proxied request into the path the app sees. */
export interface Resolver {
  /**
   * The path (and query) the app sees for `url`, the normalised full URL (dot segments already
   * resolved). It must start with `/` and hold no `.` or `..` segment, backslash, `#`, space or
   * control character; anything else (a throw, a rejection, another type) refuses the request
   * with a 500 and an `onError` report in phase `admission`. It may return a Promise.
   */
  resolve(url: string, request: Request): string | Promise<string>
  /**
   * The realm to ask for when `request` may not be served, or `undefined` to let it through.
   * The proxy answers `407` with `Proxy-Authenticate: Basic realm="<realm>"`. It is asked for
   * every proxied request: for a CONNECT (shown as a GET to `https://host:port/`, since Fetch
   * cannot carry CONNECT), for an SNI name other than the CONNECT host, and for each request
   * inside a tunnel, always with the credentials the tunnel was opened with. It may return a
   * Promise; a throw, a rejection or a value other than a string or `undefined` refuses the
   * request (500), never serves it.
   */
  requireAuth?(request: Request): string | undefined | Promise<string | undefined>
}

/** Where and how a connection problem happened, as passed to `ProxyOptions.onError`. */
export interface ErrorContext {
  /**
   * The stage: `accept` (before HTTP: the PROXY protocol header), `connect` (CONNECT line, or
   * the SOCKS5 handshake), `tunnel` (socket), `tls`, `request`, `admission` (the resolver's
   * `requireAuth` or `resolve` failed), `app` (the app failed, or its response could not be
   * sent as it was and was repaired or answered with 502), `upgrade`, `ca`, `log` (`onLog`
   * threw or its Promise rejected).
   */
  phase:
    | 'accept'
    | 'connect'
    | 'tunnel'
    | 'tls'
    | 'request'
    | 'admission'
    | 'app'
    | 'upgrade'
    | 'ca'
    | 'log'
  /** The target host, when one is known. */
  host?: string
}

/** Options of {@link createProxy}. Every field is optional. */
export interface ProxyOptions {
  /**
   * The prefix the default resolver puts before the full URL (`/prefix/https://example.com/`).
   * Ignored when `resolver` is given.
   * @default '/'
   */
  prefix?: string
  /** How full URLs become app paths: a `FixedResolver`, a `ProxyAuthResolver`, or a function. */
  resolver?: Resolver | ResolveFunction
  /**
   * The proxy's own host name: requests to it reach the main app untranslated, and every
   * proxied request carries it in `X-Wsgiprox-Proxy-Host`.
   * @default 'wsgiprox'
   */
  proxyHost?: string
  /**
   * The host that serves the CA downloads and the landing page (`/download/`).
   * @default the `proxyHost`
   */
  downloadHost?: string
  /** Per-host apps and aliases; see {@link ProxyApps}. @default {} */
  proxyApps?: ProxyApps
  /** The certificate authority: options to open or create one, or an opened instance. */
  ca?: CaOptions | CertificateAuthority
  /** Accept WebSocket upgrades through the proxy (ws:// and wss://). @default true */
  enableWebsockets?: boolean
  /**
   * The `ws` server that accepts the upgrades of `upgradeWebSocket` from `@hono/node-server`,
   * given as to node-server's `serve({ websocket: { server } })`. Pass your own to choose its
   * options (`perMessageDeflate`, `maxPayload`, `handleProtocols`, `verifyClient`); it must be
   * made with `{ noServer: true }`. `close()` ends the connections the proxy accepted and leaves
   * your server open.
   * @default a `new WebSocketServer({ noServer: true, maxPayload: websocketMaxPayload })`:
   * permessage-deflate off, as in `ws`
   * @example
   * const server = new WebSocketServer({ noServer: true, perMessageDeflate: true })
   * createProxy(app, { websocket: { server } })
   */
  websocket?: { server: WebSocketServerLike }
  /**
   * The largest WebSocket message, in bytes, the proxy's own WebSocket server accepts from a
   * client; a larger one closes that connection with code 1009 (Message Too Big). `ws` would
   * take 100 MiB per message, and a proxy open to browsers has many connections: 8 MiB holds
   * what web apps send (JSON state, chat, image frames) at a twelfth of that. A `websocket.server`
   * of your own keeps its own `maxPayload`, so this option cannot be given with it.
   * @default 8 * 1024 * 1024 (8 MiB)
   * @see https://www.rfc-editor.org/rfc/rfc6455#section-7.4.1
   */
  websocketMaxPayload?: number
  /** Serve the CA downloads and landing page on `downloadHost`. @default true */
  enableCertDownload?: boolean
  /**
   * Issue `*.parent` certificates (`a.b.example.com` gets `*.b.example.com`), never for a public
   * suffix, so one certificate serves many sibling hosts.
   * @default true
   */
  useWildcardCerts?: boolean
  /**
   * Offer HTTP/2 (`h2`) by ALPN inside intercepted TLS, and accept HTTP/2 with prior knowledge
   * inside plain tunnels. The client's list of protocols decides; clients that offer only
   * HTTP/1.x are served as before.
   * @default true
   */
  http2?: boolean
  /**
   * With more tunnels open than this, responses inside tunnels ask the client to close.
   * `0`: no limit; `-1`: one request per tunnel.
   * @default 50
   */
  keepaliveMax?: number
  /**
   * How long an HTTP/2 session inside a tunnel may stay open with no stream and no frame before
   * the proxy sends GOAWAY and closes it: the same 5 s after which Node's HTTP/1.1 server closes
   * an idle keep-alive connection, tunnels included. A session also ends when its client closes
   * the socket (with or without GOAWAY), at `close()`, and after its open streams when more
   * tunnels than `keepaliveMax` are open, and when bytes wait for a client that has taken none
   * of them for this long while streams are open.
   * @default 5_000
   */
  http2IdleTimeoutMs?: number
  /**
   * How long a tunnel may wait for the client's first bytes and for the TLS handshake, and a new
   * connection for its PROXY protocol header.
   * @default 10_000
   */
  handshakeTimeoutMs?: number
  /**
   * How long an async `requireAuth` or `resolve` may take; past it the request is refused (500).
   * @default 30_000
   */
  admissionTimeoutMs?: number
  /**
   * Expect a PROXY protocol header (v1 or v2, as HAProxy's `send-proxy` and `send-proxy-v2` send
   * it) in front of every connection, and show the client it names as the socket's
   * `remoteAddress`, `remotePort` and `remoteFamily`, where Hono's `getConnInfo` reads them, also
   * inside CONNECT tunnels. A connection without a valid header is refused: `400` when it
   * starts like an HTTP request, closed otherwise. Turn it on only behind a load balancer that
   * sends the header: anyone who can reach the port directly could claim any address.
   * @default false
   * @see https://www.haproxy.org/download/2.6/doc/proxy-protocol.txt
   */
  proxyProtocol?: boolean
  /**
   * Speak SOCKS5 on the same port: a connection whose first byte is 0x05 is a SOCKS5 client.
   * No authentication and username/password (whose credentials go through `requireAuth` as
   * `Proxy-Authorization: Basic` would); CONNECT only; then the connection is a tunnel like a
   * CONNECT tunnel.
   * @default true
   * @see https://www.rfc-editor.org/rfc/rfc1928
   * @see https://www.rfc-editor.org/rfc/rfc1929
   */
  socks?: boolean
  /**
   * Serve a PAC file at `http://<proxyHost>/proxy.pac` through the proxy, and at `/proxy.pac`
   * on a direct request to the proxy's own address. `{ hosts }` sends only hosts matching those
   * `shExpMatch` patterns through the proxy, the rest `DIRECT`; `false` turns it off.
   * @default true (every host through the proxy)
   * @example
   * createProxy(app, { pac: { hosts: ['*.example.com', 'example.org'] } })
   */
  pac?: boolean | PacOptions
  /**
   * Count requests (by protocol, status class and route), response bytes, open connections,
   * tunnels and HTTP/2 sessions, certificates issued, the proxy's own refusals, errors by phase, request durations and the
   * process's figures (fds, RSS, event-loop delay), and serve them as OpenMetrics text at
   * `http://<proxyHost>/metrics`, through the proxy only. `prom-client` is loaded only when this
   * is on; off, nothing is counted.
   * @default false
   * @example
   * createProxy(app, { metrics: true })
   * // curl -x 127.0.0.1:8080 http://wsgiprox/metrics
   */
  metrics?: boolean
  /**
   * Called for every connection-level problem; the proxy never throws or prints for those. An
   * exception thrown by it, or a Promise it returns that rejects, is ignored.
   */
  onError?: (error: Error, context: ErrorContext) => unknown
  /**
   * Called with one record per request (client, method, full URL, the path the app saw, route,
   * status, bytes, duration, and the tunnel with TLS and ALPN) when its response ends, or for a
   * WebSocket upgrade when its connection closes; for every tunnel opened and closed; and for
   * every host certificate issued. Unset, nothing is recorded. It may be async: an exception
   * thrown by it, or a Promise it returns that rejects, changes nothing and is told to `onError`
   * with phase `log`. The CLI prints these as access lines.
   */
  onLog?: (record: LogRecord) => unknown
}

/** What the PAC file sends through the proxy. */
export interface PacOptions {
  /** `shExpMatch` patterns of the hosts to proxy (`*.example.com`); unset: every host. */
  hosts?: readonly string[] | undefined
}

/** A proxy made by {@link createProxy}. */
export interface Proxy {
  /**
   * Start a Node `http.Server` that serves the proxy, and resolve once it listens.
   * @default port 8080, host '127.0.0.1'
   */
  listen(port?: number, host?: string): Promise<Server>
  /**
   * Make an existing `http.Server` (for example the one `serve()` from `@hono/node-server`
   * returns) serve the proxy: its request handling is replaced by the proxy's, whose
   * passthrough still reaches the main app, and CONNECT and upgrades are added.
   */
  attach(server: Server): Server
  /**
   * Close the servers this proxy started or attached to, and every open tunnel; resolves once
   * `onLog` has had the records of the requests and WebSockets it cut.
   */
  close(): Promise<void>
  /**
   * The Fetch-only entry for runtimes that cannot hand over a socket: proxy-host routing and
   * passthrough work, and no HTTPS. A `Request` with method CONNECT cannot be made in Node (the
   * Fetch standard forbids it), and Node's server never hands a CONNECT to a fetch handler; a
   * CONNECT that some runtime does pass in gets `405 HTTPS Proxy Not Supported`. As `fetch()`
   * does, it rejects with the reason of the request's signal once that aborts (before the app
   * runs, if it has not yet), and the app's `request.signal` aborts with it.
   */
  fetch(request: Request, env?: unknown): Promise<Response>
  /** The certificate authority in use (created or loaded on first need). */
  getCertificateAuthority(): Promise<CertificateAuthority>
}
