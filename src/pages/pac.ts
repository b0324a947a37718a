/**
 * The PAC file (proxy auto-config): `FindProxyForURL` naming this proxy as an HTTP proxy and, when
 * SOCKS is on, as a SOCKS5 proxy, for every host or for the host patterns given. Served by a
 * small app in front of the proxy host's own apps.
 * @module
 * @see https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/Proxy_servers_and_tunneling/Proxy_Auto-Configuration_PAC_file
 */
import type { HttpBindings } from '@hono/node-server'
import { Hono } from 'hono'
import { PAC_PATH } from '../admission/own-pages'
import { addressHost } from '../admission/target'
import type { Handler } from '../app/fetch-handler'
import { isFallthrough, toFallthroughHandler } from '../app/fetch-handler'
import type { PacOptions } from '../types'
import { withHeadAsGet } from './head'

export { PAC_PATH }

/** The content type browsers expect of a PAC file. */
export const PAC_CONTENT_TYPE = 'application/x-ns-proxy-autoconfig'

/** What the PAC script says: the proxy's address as the client reached it, and what it speaks. */
export interface PacScriptOptions extends PacOptions {
  /** `host:port`, IPv6 bracketed. */
  address: string
  socks: boolean
}

/** The text of the PAC file. */
export function pacScript({ address, socks, hosts }: PacScriptOptions): string {
  // Browsers try the entries in order: the HTTP proxy first, SOCKS5 if it cannot be reached.
  const route = `PROXY ${address}${socks ? `; SOCKS5 ${address}` : ''}`
  if (hosts === undefined) {
    return `function FindProxyForURL(url, host) {\n  return ${JSON.stringify(route)};\n}\n`
  }
  return [
    'function FindProxyForURL(url, host) {',
    `  var hosts = ${JSON.stringify(hosts)};`,
    '  host = host.toLowerCase();',
    '  for (var i = 0; i < hosts.length; i++) {',
    `    if (shExpMatch(host, hosts[i])) return ${JSON.stringify(route)};`,
    '  }',
    '  return "DIRECT";',
    '}',
    '',
  ].join('\n')
}

/** The env @hono/node-server passes; absent when the proxy runs as a bare fetch handler. */
interface Env {
  Bindings: Partial<HttpBindings> | undefined
}

/**
 * The PAC app: `GET /proxy.pac` names the address the client connected to (inside a tunnel too:
 * the TLS socket reports its TCP socket's address). Without a socket (the Fetch-only entry)
 * there is no address to name, so the request falls through.
 */
export function createPacApp(pac: PacOptions, socks: boolean): Hono<Env> {
  const app = new Hono<Env>()
  app.get(PAC_PATH, (c, next) => {
    const socket = c.env?.incoming?.socket
    const host = socket?.localAddress
    const port = socket?.localPort
    if (host === undefined || port === undefined) {
      return next()
    }
    const address = `${addressHost(host)}:${port}`
    return c.body(pacScript({ address, socks, hosts: pac.hosts }), 200, {
      'content-type': PAC_CONTENT_TYPE,
      'cache-control': 'no-store',
    })
  })
  return app
}

/** `first`, and what it leaves unhandled to `second` (when there is one). */
export function inFront(first: Handler, second: Handler | undefined): Handler {
  if (second === undefined) {
    return first
  }
  return async (request, env) => {
    const response = await first(request, env)
    return response === undefined || isFallthrough(response) ? second(request, env) : response
  }
}

/** The PAC app as a proxy-host handler, in front of `next`. */
export function pacHandler(pac: PacOptions, socks: boolean, next: Handler | undefined): Handler {
  return inFront(withHeadAsGet(toFallthroughHandler(createPacApp(pac, socks))), next)
}
