/**
 * What the proxy tells `onLog`: one record per request when its response ends, tunnels opening
 * and closing, and host certificates issued.
 * @module
 */

/** Where a connection came from. */
export interface ClientAddress {
  address: string | undefined
  port: number | undefined
}

/** One request, reported when its response has ended (or the client left before). */
export interface RequestRecord {
  type: 'request'
  /** When the request arrived. */
  time: Date
  client: ClientAddress
  method: string
  /** The full URL the client asked for; for passthrough requests, the path as sent. */
  url: string
  /** The path and query the app saw; `undefined` when the proxy answered itself. */
  path: string | undefined
  /**
   * Who answered: `app` (through the resolver), the proxy host whose app or alias took it,
   * `passthrough` (a direct request to the main app), or `proxy` (a 4xx/5xx of the proxy's own).
   */
  route: string
  /**
   * The status sent; 499 (nginx's "client closed request") when none went out because the client
   * left, or the proxy closed, before the response began.
   */
  status: number
  /**
   * The body bytes sent for the response, on every protocol: what the app's body put on the
   * wire (cut to its Content-Length where it declared one), or the proxy's own reply. Headers
   * and framing are not counted; a HEAD response counts 0.
   */
  bytes: number | undefined
  durationMs: number
  /** `1.0`, `1.1` or `2.0`. */
  httpVersion: string
  /** The tunnel the request came through, if any. */
  tunnel: TunnelRecord | undefined
  /** Whether the client left before the response ended. */
  aborted: boolean
  /**
   * A WebSocket upgrade: reported when its connection closes, `status` 101 when the handshake
   * succeeded, `durationMs` the life of the connection, `bytes` what the proxy wrote on it.
   */
  websocket: boolean
}

/** A tunnel as records describe it. */
export interface TunnelRecord {
  host: string
  port: number
  /** Whether TLS was terminated inside. */
  tls: boolean
  /** The ALPN protocol chosen inside TLS (`h2`, `http/1.1`, `http/1.0`), if any. */
  alpn: string | undefined
}

/** A tunnel opened (after the 200 or SOCKS success reply) or closed. */
export interface TunnelEventRecord {
  type: 'tunnel-open' | 'tunnel-close'
  time: Date
  client: ClientAddress
  host: string
  port: number
  /** For `tunnel-close`: how long it was open. */
  durationMs?: number
  /** For `tunnel-close`: TLS and ALPN, as far as the tunnel got. */
  tls?: boolean
  alpn?: string | undefined
}

/** A host certificate signed (or loaded from `certsDir`) for a handshake. */
export interface CertificateRecord {
  type: 'certificate'
  time: Date
  /** The name the certificate is issued under (`*.example.com` for a wildcard). */
  name: string
  source: 'signed' | 'stored'
  durationMs: number
}

/** Everything `onLog` receives. */
export type LogRecord = RequestRecord | TunnelEventRecord | CertificateRecord
