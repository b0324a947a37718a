/**
 * The hooks on a Node `http.Server`: absolute-form and origin-form requests, CONNECT, upgrades.
 * Each request is translated in place and handed to the app server.
 * @module
 */
import { STATUS_CODES } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Connections } from './connections'
import type { Dispatcher } from './dispatch'
import type { NormalizedOptions } from './options'
import type { AppServer } from './server'
import type { TranslateContext, Translation, TunnelInfo } from './translate'
import { requestOf, translate, headersOf } from './translate'
import type { TunnelDeps } from './tunnel'
import { basicChallenge, endWith, handleConnect, tunnelOf } from './tunnel'

/** What the listener needs from the proxy. */
export interface ListenerDeps extends TunnelDeps {
  options: NormalizedOptions
  connections: Connections
  context: TranslateContext
  dispatcher: Dispatcher
  /** The adaptor server that runs the app for requests and WebSocket upgrades. */
  appServer: AppServer
}

/** Hook the proxy onto `server`; returns a function that unhooks it. */
export function installListener(server: Server, deps: ListenerDeps): () => void {
  const { options, connections, context, dispatcher, appServer } = deps

  // The request path runs for every request: no closures are made per request on it.
  const serveRequest = (req: IncomingMessage, res: ServerResponse, translation: Translation) => {
    if (translation.kind === 'error') {
      res.writeHead(translation.status, { 'content-type': 'text/plain; charset=utf-8' })
      res.end(`${translation.message}\n`)
      return
    }
    if (translation.kind === 'proxy' && translation.matchedHost !== undefined) {
      dispatcher.route(req, translation.matchedHost)
    }
    appServer.server.emit('request', req, res)
  }

  const failRequest = (res: ServerResponse, error: unknown) => {
    options.onError(toError(error), { phase: 'request' })
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
    res.end('The resolver failed\n')
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const tunnel = tunnelOf(req.socket)
    if (tunnel && connections.shouldClose()) {
      res.shouldKeepAlive = false
    }
    const realm = tunnel ? undefined : realmToAsk(req)
    if (realm !== undefined) {
      res.writeHead(407, {
        'proxy-authenticate': basicChallenge(realm),
        'content-type': 'text/plain; charset=utf-8',
      })
      res.end('Proxy authentication required\n')
      return
    }
    translateThen(req, tunnel, context, res, serveRequest, failRequest)
  }

  const serveUpgrade = (
    req: IncomingMessage,
    { socket, head }: { socket: Duplex; head: Buffer },
    translation: Translation
  ) => {
    if (translation.kind === 'error') {
      endWith(
        socket,
        translation.status,
        STATUS_CODES[translation.status] ?? '',
        translation.message
      )
      return
    }
    if (translation.kind === 'proxy' && !options.enableWebsockets) {
      endWith(socket, 501, 'Not Implemented', 'WebSockets through this proxy are disabled')
      return
    }
    if (translation.kind === 'proxy' && translation.matchedHost !== undefined) {
      dispatcher.route(req, translation.matchedHost)
    }
    appServer.upgrade(req, socket, head)
  }

  const failUpgrade = ({ socket }: { socket: Duplex }, error: unknown) => {
    options.onError(toError(error), { phase: 'upgrade' })
    endWith(socket, 500, 'Internal Server Error', 'The resolver failed')
  }

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const tunnel = tunnelOf(socket)
    // A tunnel's socket already reports its errors (tunnel.ts); a direct one has no listener left
    // once Node hands it over for the upgrade.
    if (!tunnel) {
      socket.on('error', (error) => {
        options.onError(error, { phase: 'upgrade' })
      })
    }
    if (req.headers.upgrade?.toLowerCase() !== 'websocket') {
      // Node hands every Upgrade here once an 'upgrade' listener exists, and node-server leaves
      // all but WebSocket unanswered; a server may ignore Upgrade (RFC 9110 §7.8), so serve it
      // as the request it also is (`curl --http2` asks for h2c this way, bodies included).
      replayWithoutUpgrade(server, req, socket, head)
      return
    }
    const realm = tunnel ? undefined : realmToAsk(req)
    if (realm !== undefined) {
      endWith(socket, 407, 'Proxy Authentication Required', 'Proxy authentication required', [
        `Proxy-Authenticate: ${basicChallenge(realm)}`,
      ])
      return
    }
    translateThen(req, tunnel, context, { socket, head }, serveUpgrade, failUpgrade)
  }

  const onConnect = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    handleConnect(server, req, socket, head, deps)
  }

  /**
   * The realm to ask for, for an absolute-form request outside a tunnel (where proxy credentials
   * are asked for) that lacks them; `undefined` lets it through.
   */
  const realmToAsk = (req: IncomingMessage): string | undefined => {
    const resolver = options.resolver
    const url = req.url ?? ''
    if (!resolver.requireAuth || url.startsWith('/')) {
      return undefined
    }
    try {
      return resolver.requireAuth(requestOf(url, req.method ?? 'GET', headersOf(req)))
    } catch {
      // An unparsable URL: translation answers it with a 400.
      return undefined
    }
  }

  server.on('request', onRequest)
  server.on('connect', onConnect)
  server.on('upgrade', onUpgrade)
  return () => {
    server.off('request', onRequest)
    server.off('connect', onConnect)
    server.off('upgrade', onUpgrade)
  }
}

/**
 * Translate `req`, then serve it, or fail it when the resolver throws or rejects. What is served
 * comes in as `target` rather than in a closure: the request path makes none per request.
 */
function translateThen<T>(
  req: IncomingMessage,
  tunnel: TunnelInfo | undefined,
  context: TranslateContext,
  target: T,
  serve: (req: IncomingMessage, target: T, translation: Translation) => void,
  fail: (target: T, error: unknown) => void
): void {
  let translation: Translation | Promise<Translation>
  try {
    translation = translate(req, tunnel, context)
  } catch (error) {
    fail(target, error)
    return
  }
  if (translation instanceof Promise) {
    translation.then(
      (result) => {
        serve(req, target, result)
      },
      (error: unknown) => {
        fail(target, error)
      }
    )
  } else {
    serve(req, target, translation)
  }
}

/**
 * Give the connection back to `server` as if the request had come without its Upgrade. Node
 * detached its parser at the Upgrade, so the head is written again, without the Upgrade header
 * and its Connection token, in front of the bytes that followed it (the body, and any pipelined
 * requests): a fresh parser reads it all as usual, keep-alive included.
 */
function replayWithoutUpgrade(
  server: Server,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer
): void {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`]
  const raw = req.rawHeaders
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? ''
    const lower = name.toLowerCase()
    let value = raw[i + 1] ?? ''
    if (lower === 'upgrade') {
      continue
    }
    if (lower === 'connection') {
      value = value
        .split(',')
        .map((token) => token.trim())
        .filter((token) => token !== '' && token.toLowerCase() !== 'upgrade')
        .join(', ')
      if (value === '') {
        continue
      }
    }
    lines.push(`${name}: ${value}`)
  }
  // llhttp hands header values over as latin1, so this writes back the bytes that came in.
  socket.unshift(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), head]))
  server.emit('connection', socket)
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}
