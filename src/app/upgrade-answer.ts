/**
 * The answer to a WebSocket upgrade the app did not accept (a `403` with a JSON reason, a `401`
 * asking for a login). @hono/node-server would write it on the raw socket itself, with its status
 * and headers but `Content-Length: 0` and no body, past Node's writer and the response guard. It
 * is written here instead as any other response of the app's: through a Node `ServerResponse` on
 * the upgrade's socket, by node-server's own request listener, with the response guard on. The
 * client gets the app's status, headers (hop-by-hop ones dropped, a Content-Type node-server
 * would add for a GET added too) and body, then the connection closes; what cannot be sent gets
 * `502`, told to `onError` with phase `app`.
 * @module
 */
import { getRequestListener } from '@hono/node-server'
import type { HttpBindings } from '@hono/node-server'
import { ServerResponse } from 'node:http'
import type { IncomingMessage } from 'node:http'
import { toError } from '../errors'
import { endSocket } from '../inbound/replies'
import { noteUpgradeStatus } from '../log/upgrade'
import type { ErrorContext } from '../types'
import { guardBody } from './body-guard'
import type { GuardedResponse } from './response-guard'
import { badGateway } from './response-guard'

type Report = (error: Error, context: ErrorContext) => void

/** Answers `response` to the upgrade of `env`; resolves with what node-server is handed back. */
export type UpgradeAnswer = (response: Response, env: unknown) => Promise<Response>

/**
 * What node-server is handed once the refusal is written and the socket closed: it then writes
 * nothing (it sees the socket destroyed), and reads only this Response's status and headers.
 */
const WRITTEN = (): Response => new Response(null, { status: 204 })

/**
 * The answer to each upgrade node-server hands back: `upgradeWebSocket` marks the env when it
 * accepts, and the app's Response then goes on as it is (`ws` answers `101`). Otherwise the
 * Response is written on the socket, with `guard` on, before node-server sees it again.
 */
export function createUpgradeAnswer(
  guard: (res: GuardedResponse) => void,
  report: Report
): UpgradeAnswer {
  const answers = new WeakMap<IncomingMessage, Response>()
  const write = getRequestListener((_request, env) => {
    const { incoming } = env as HttpBindings
    return answers.get(incoming) ?? new Response(null, { status: 500 })
  })

  return async (response, env) => {
    if (isAccepted(env)) {
      return response
    }
    const { incoming } = env as HttpBindings
    const { socket } = incoming
    if (socket.destroyed || !socket.writable) {
      return WRITTEN()
    }
    const res = new ServerResponse(incoming)
    // One answer, then the connection closes (RFC 9112 §9.6): nothing is read after the upgrade.
    res.shouldKeepAlive = false
    res.assignSocket(socket)
    guard(res)
    const closed = new Promise<void>((resolve) => {
      socket.once('close', resolve)
    })
    res.once('finish', () => {
      endSocket(socket, Buffer.alloc(0))
    })
    // What the client sends is not read; its end means it has gone, as Node's server takes it,
    // and a body still streaming is then cancelled (the socket's close closes `res`).
    socket.on('end', () => {
      if (!res.writableFinished) {
        socket.destroy()
      }
    })
    socket.resume()
    try {
      // A body that fails before its first chunk rejects here: the 502 below, with its reason.
      answers.set(incoming, await guardBody(response, res, report))
      await write(incoming, res)
    } catch (error) {
      // What node-server could not write, as for any request (app-server.ts).
      if (res.headersSent) {
        report(toError(error), { phase: 'app' })
        res.destroy()
      } else {
        badGateway(res, report, toError(error).message)
      }
    }
    noteUpgradeStatus(incoming, res.statusCode)
    await closed
    return WRITTEN()
  }
}

/** node-server's mark of an upgrade `upgradeWebSocket` accepted (its `CONNECTION_SYMBOL_KEY`). */
function isAccepted(env: unknown): boolean {
  return (
    typeof env === 'object' &&
    env !== null &&
    Object.getOwnPropertySymbols(env).some(
      (symbol) => symbol.description === 'CONNECTION_SYMBOL_KEY'
    )
  )
}
