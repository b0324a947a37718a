/**
 * The log record of a WebSocket upgrade. The answer is written on the socket by whoever settles
 * the handshake (the proxy's refusal, the app's declining response through @hono/node-server,
 * or `ws` with its 101), so each of them notes its status here, and the record is made when the
 * connection closes, with the connection's life as its duration, as web servers log WebSockets.
 * @module
 */
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Admission, TunnelIdentity } from '../admission/decision'
import { awaitRecord, recordReported } from './pending'
import type { LogRecord } from './records'
import { beginRecord, unansweredStatus } from './watch'

const statuses = new WeakMap<IncomingMessage, number>()

/** Note the status the upgrade request `req` was answered with. */
export function noteUpgradeStatus(req: IncomingMessage, status: number): void {
  statuses.set(req, status)
}

/**
 * Report the upgrade `req` to `onLog` once `socket` closes. Without a noted status the handshake
 * failed before anyone answered it, and @hono/node-server answers those 400.
 */
export function watchUpgrade(
  onLog: (record: LogRecord) => void,
  req: IncomingMessage,
  socket: Duplex,
  admission: Admission,
  tunnel: TunnelIdentity | undefined,
  gone = false
): void {
  const sent = () => (socket as Partial<Pick<Socket, 'bytesWritten'>>).bytesWritten
  const sentBefore = sent()
  const finish = beginRecord(req, admission, tunnel)
  if (gone) {
    // The client left while admission decided, and no one answers it.
    onLog(finish(unansweredStatus(admission), 0, true, true))
    return
  }
  const pending = awaitRecord(onLog)
  socket.once('close', () => {
    const bytes = sentBefore === undefined ? undefined : (sent() ?? sentBefore) - sentBefore
    onLog(finish(statuses.get(req) ?? 400, bytes, false, true))
    recordReported(pending)
  })
}
