/**
 * The one place that parses nothing and serves everything: @hono/node-server turns each
 * admitted Node request (and WebSocket upgrade) into a Fetch Request for the app of its route,
 * and writes the app's Response back through the response guard.
 * @module
 */
import { createAdaptorServer, getRequestListener } from '@hono/node-server'
import type { WebSocketServerLike } from '@hono/node-server'
import { WebSocketServer } from 'ws'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import type { Duplex } from 'node:stream'
import { toError } from '../errors'
import { noteUpgradeStatus } from '../log/upgrade'
import type { ErrorContext } from '../types'
import type { Dispatcher } from './dispatch'
import { badGateway, createResponseGuard } from './response-guard'
import { createUpgradeAnswer } from './upgrade-answer'

/** A request of either HTTP version, and its response. */
export type NodeRequest = IncomingMessage | Http2ServerRequest
export type NodeResponse = ServerResponse | Http2ServerResponse

/** node-server's request listener and upgrade handling, one per route. */
export interface AppServer {
  /** Serve an admitted request with the app of `route` (`undefined`: the main app). */
  serve(request: IncomingMessage, response: ServerResponse, route: string | undefined): void
  /** The same for an HTTP/2 stream. */
  serveHttp2(
    request: Http2ServerRequest,
    response: Http2ServerResponse,
    route: string | undefined
  ): void
  /** Hand over an admitted WebSocket upgrade; `close()` ends its socket. */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, route: string | undefined): void
  /** End every upgraded socket, and close the WebSocket server if it is our own. */
  close(): void
}

/** What the app server needs besides the dispatcher. */
export interface AppServerOptions {
  /** The user's `ProxyOptions.websocket.server`; without one, a `ws` server of our own. */
  websocketServer: WebSocketServerLike | undefined
  onError: (error: Error, context: ErrorContext) => void
  /** Count the body bytes of every response (for the access log). */
  countBytes: boolean
  /** The largest WebSocket message our own `ws` server accepts, in bytes. */
  maxPayload: number
}

/** One route's node-server entry points. */
interface Route {
  listener: (request: NodeRequest, response: NodeResponse) => Promise<void>
  /** The adaptor whose `upgrade` handling runs `upgradeWebSocket`; made on the first upgrade. */
  adaptor: Server | undefined
}

/**
 * Create the app server. It never listens: the proxy's ways in admit each request, rewrite it in
 * place and hand it here with its route, so node-server's own request and upgrade handling (lazy
 * Request, abort on disconnect, `upgradeWebSocket`) runs on what the app should see. A user's
 * `websocket.server` keeps its own settings; our own `ws` server has its defaults, as a plain
 * `serve()` with `new WebSocketServer({ noServer: true })` would, but for `maxPayload`
 * (`ProxyOptions.websocketMaxPayload`).
 */
export function createAppServer(dispatcher: Dispatcher, options: AppServerOptions): AppServer {
  const { onError } = options
  const guard = createResponseGuard(onError, options.countBytes)
  const answerUpgrade = createUpgradeAnswer(guard, onError)
  const websocketServer =
    options.websocketServer ??
    new WebSocketServer({ noServer: true, maxPayload: options.maxPayload })
  const routes = new Map<string | undefined, Route>()
  // Upgraded sockets leave the HTTP server's bookkeeping, so server.close() would wait for them
  // for ever: keep them here to end them on close.
  const upgraded = new Set<Duplex>()
  // node-server announces each accepted WebSocket on the server: its handshake was answered 101.
  websocketServer.on('connection', (_ws: unknown, request: IncomingMessage) => {
    noteUpgradeStatus(request, 101)
  })

  // The main app's route, which most requests take, without a Map lookup.
  let main: Route | undefined
  const routeOf = (name: string | undefined): Route => {
    if (name === undefined && main) {
      return main
    }
    let route = routes.get(name)
    if (!route) {
      const listener = getRequestListener(dispatcher.forRoute(name))
      route = { listener, adaptor: undefined }
      routes.set(name, route)
    }
    if (name === undefined) {
      main = route
    }
    return route
  }
  // HTTP/2 streams have listeners of their own (dispatch.ts: their large bodies go in slices).
  const http2Listeners = new Map<string | undefined, Route['listener']>()
  const http2ListenerOf = (name: string | undefined): Route['listener'] => {
    let listener = http2Listeners.get(name)
    if (!listener) {
      listener = getRequestListener(dispatcher.forRoute(name, true))
      http2Listeners.set(name, listener)
    }
    return listener
  }

  /** Run `listener` on `request`; what escapes it is answered here (see below). */
  const run = (listener: Route['listener'], request: NodeRequest, response: NodeResponse) => {
    guard(response)
    listener(request, response).catch((error: unknown) => {
      // node-server answers what it can. What still escapes (a header Fetch's Headers
      // refuses, a value that cannot be made text) gets a 502 with the reason while nothing
      // has been sent, and otherwise ends this response only.
      if (!response.headersSent) {
        badGateway(response, onError, toError(error).message)
        return
      }
      onError(toError(error), { phase: 'app' })
      response.destroy()
    })
  }

  return {
    serve(request, response, route) {
      run(routeOf(route).listener, request, response)
    },
    serveHttp2(request, response, route) {
      run(http2ListenerOf(route), request, response)
    },
    upgrade(request, socket, head, name) {
      upgraded.add(socket)
      socket.once('close', () => upgraded.delete(socket))
      const route = routeOf(name)
      if (!route.adaptor) {
        const fetch = dispatcher.forRoute(name)
        route.adaptor = createAdaptorServer({
          fetch: async (upgrade, env) => answerUpgrade(await fetch(upgrade, env), env),
          websocket: { server: websocketServer },
        }) as Server
      }
      route.adaptor.emit('upgrade', request, socket, head)
    },
    close() {
      for (const socket of upgraded) {
        socket.destroy()
      }
      upgraded.clear()
      // A server the user gave may serve others too (their own serve()); it stays theirs.
      if (!options.websocketServer) {
        websocketServer.close()
      }
    },
  }
}
