/**
 * CONNECT: the target is admitted (400, 407 or 500 before any tunnel exists), and the answer,
 * `200 Connection Established` or the refusal, goes out once the responses pipelined before it
 * have; an admitted CONNECT then becomes a tunnel (tunnel.ts).
 * @module
 */
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import type { TunnelAdmission } from '../admission/decision'
import { refusalStatus, refuse } from '../admission/decision'
import { toError } from '../errors'
import { beginRecord, rememberPeer } from '../log/watch'
import { andThen } from '../util/settled'
import { notHttp1 } from './not-http1'
import { challengeHeaders, replyOnSocket } from './replies'
import type { TunnelDeps } from './tunnel'
import { openTunnel, tunnelOf } from './tunnel'
import { whenIdle } from './when-idle'

/** What a refused CONNECT's record is made from: any refusal gives route `proxy` and no path. */
const CONNECT_REFUSED = refuse(400, 'CONNECT refused')

/** Handle the `connect` event of `server`. Never throws; problems go to `onError`. */
export function handleConnect(
  server: Server,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  deps: TunnelDeps
): void {
  const target = req.url ?? ''
  if (deps.options.onLog) {
    rememberPeer(socket)
  }
  socket.on('error', (error) => {
    deps.options.onError(error, { phase: 'tunnel', host: target })
  })
  deps.connections.track(socket)
  // No deadline of its own while admission decides: the gate answers (500, a resolver that never
  // answers included) within admissionTimeoutMs, and handshakeTimeoutMs is the client's time.
  const authorization = req.headers['proxy-authorization']
  const inside = tunnelOf(socket)
  // A CONNECT line naming no HTTP/1 version (`HTTP/2.0`, or none) gets 505, as other methods do;
  // refused before its record begins, so that the record says HTTP/1.1.
  const notHttp1Refusal = req.httpVersionMajor === 1 ? undefined : notHttp1(req)
  // A refused CONNECT gets an access record as any refused request does; an admitted one is
  // logged as a tunnel.
  const log = deps.options.onLog
  const finish = log && beginRecord(req, CONNECT_REFUSED, inside)
  const refused =
    finish &&
    ((status: number, bytes: number | undefined) => {
      log(finish(status, bytes, false, false))
    })
  const decided = (admission: TunnelAdmission) => {
    // The answer, and the tunnel, come after the responses pipelined before the CONNECT.
    whenIdle(socket, () => {
      answerConnect(server, req, socket, head, admission, authorization, deps, refused)
    })
  }
  const settled = andThen(
    notHttp1Refusal ?? deps.gate.admitTunnel(inside, target, authorization),
    decided
  )
  if (settled instanceof Promise) {
    settled.catch((error: unknown) => {
      deps.options.onError(toError(error), { phase: 'connect', host: target })
      socket.destroy()
    })
  }
}

/** Answer an admitted or refused CONNECT on its socket, once nothing is queued before it. */
function answerConnect(
  server: Server,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  admission: TunnelAdmission,
  authorization: string | undefined,
  deps: TunnelDeps,
  refused: ((status: number, bytes: number | undefined) => void) | undefined
): void {
  if (socket.destroyed) {
    return
  }
  if (admission.kind !== 'open') {
    const status = refusalStatus(admission)
    const bytes =
      admission.kind === 'refuse'
        ? replyOnSocket(socket, status, admission.message)
        : replyOnSocket(
            socket,
            status,
            'Proxy authentication required',
            challengeHeaders(admission.realm)
          )
    refused?.(status, bytes)
    return
  }
  socket.write(`HTTP/${req.httpVersion} 200 Connection Established\r\n\r\n`)
  openTunnel(server, socket, head, admission, authorization, deps)
}
