/**
 * How an HTTP/2 session inside a tunnel ends. Node ends a session only on a socket error, or on
 * the client's GOAWAY once its open streams are done, so without this a client that closes its
 * socket (a FIN without GOAWAY, as httpx always and curl often do; or GOAWAY then FIN in the
 * middle of a response it no longer reads), one that stays silent, or one kept past
 * `keepaliveMax` would hold its file descriptor and session for the life of the process.
 * @module
 */
import type { Http2Session } from 'node:http2'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'

/**
 * How long open streams may still run once a session is closing (the client's FIN, the idle
 * timeout, `keepaliveMax`), before the session and its socket are destroyed; at `close()`, how
 * long a client that takes nothing may hold up the GOAWAY.
 */
export const SESSION_CLOSE_GRACE_MS = 2_000

/** What decides when a session ends. */
export interface SessionLifecycle {
  /** Close a session with no open stream after this long without a frame. */
  idleTimeoutMs: number
  /** Whether the tunnels' keep-alive budget is spent: then a session ends after its streams. */
  shouldClose: () => boolean
}

/**
 * Give `session`, served on `socket` (and `raw`, the TCP socket under a TLS one), an end:
 * - the client's FIN: GOAWAY, the open streams finish, then the socket is destroyed (at once
 *   when none is open);
 * - no frame for `idleTimeoutMs` and no open stream: GOAWAY and close;
 * - a new stream while `shouldClose()`: GOAWAY, and the streams already open run to their end,
 *   as an HTTP/1.1 tunnel answers `Connection: close` then;
 * - once closing for any other reason, the streams still open, and a client slow to close its
 *   side, have {@link SESSION_CLOSE_GRACE_MS}; a retired session has it once its streams are done.
 * Whenever the session is over, both sockets are destroyed, so the descriptor is given back.
 */
export function manageSession(
  session: Http2Session,
  socket: Duplex,
  raw: Duplex,
  lifecycle: SessionLifecycle
): void {
  let open = 0
  let grace: NodeJS.Timeout | undefined
  const destroy = () => {
    session.destroy()
    socket.destroy()
    raw.destroy()
  }
  const close = () => {
    if (session.destroyed) {
      return
    }
    // close() sends GOAWAY naming the last stream taken, and destroys the session once the
    // streams already open are done. A session may be closing already: Node closes it this way
    // on the client's GOAWAY (NO_ERROR), which node:http2 clients send before they go, so a
    // stream stuck on a client that left (a write waiting for a window that never opens) would
    // hold the session, its socket and the app's body stream for ever without the grace below.
    if (!session.closed) {
      session.close()
    }
    // A destroyed session still waits for its client to close the socket: the grace bounds that
    // wait too.
    grace ??= setTimeout(destroy, SESSION_CLOSE_GRACE_MS)
    grace.unref()
  }
  // Past keepaliveMax the session retires: GOAWAY now, and the grace only once its streams are
  // done, as an HTTP/1.1 tunnel's `Connection: close` waits for its response. An event stream or
  // a long download runs to its end; a client that stops taking bytes is still caught as stalled.
  let retiring = false
  const retire = () => {
    retiring = true
    if (!session.closed && !session.destroyed) {
      session.close()
    }
  }
  const progress = watchProgress(session, socket, lifecycle.idleTimeoutMs, () => open > 0, close)
  const answering = watchAnswering(session, raw, lifecycle.idleTimeoutMs, () => open > 0, {
    idle: close,
    // No answer to a PING: nothing more will go out or come in, so no grace either.
    dead: destroy,
  })
  session.on('stream', (stream: Duplex) => {
    open++
    progress.start()
    stream.once('close', () => {
      open--
      if (retiring && open === 0) {
        close()
      }
      setImmediate(forgetListeners, stream)
    })
    if (lifecycle.shouldClose()) {
      retire()
    }
  })
  session.setTimeout(lifecycle.idleTimeoutMs, () => {
    if (open === 0) {
      close()
    }
  })
  // A TLS socket reports the client's FIN (with or without close_notify) as its end. With no
  // stream open, nothing is left to answer: the session ends now. A GOAWAY would wait in vain for
  // a frame the client left half sent, which it can no longer complete.
  socket.once('end', () => {
    if (open === 0) {
      destroy()
    } else {
      close()
    }
  })
  session.once('close', () => {
    progress.stop()
    clearInterval(answering)
    clearTimeout(grace)
    socket.destroy()
    raw.destroy()
  })
}

/**
 * Drop the listeners a closed stream still holds, a turn after its 'close' (some are added while
 * it closes: the 'finish' one Node 24 and 26 add when the writable side shuts down, the compat
 * request's and response's). None of them can fire any more, yet under load they kept every dead
 * stream, with its request and response, through the young-generation collections until the
 * next full one: 4 MB promoted a scavenge (bench/README.md). A no-op 'error' listener stays, so
 * that a late error cannot throw.
 */
function forgetListeners(stream: Duplex): void {
  stream.removeAllListeners()
  stream.on('error', ignore)
}

const ignore = (): void => {}

/**
 * While streams are open, look every `everyMs` at the bytes the session has handed to `socket`
 * and the socket has not sent yet, and call `stalled` when some wait and none has gone since the
 * last look: the client has taken nothing for a whole period. A session with streams open never
 * idles out, and may be told of nothing when its client leaves: on Node 20 a TLS socket can lose
 * the failure of a write to a client that went away (nodejs/node#55804), and the session, which
 * stops reading while its write is under way, never sees the reset or the FIN. Its socket, its
 * memory and the app's streams would be held for ever. A client that reads slowly still takes
 * bytes, and one that lets a stream's flow-control window run out leaves none waiting: both keep
 * their session. (A PING cannot tell these apart: its answer waits behind every byte queued
 * before it.)
 */
function watchProgress(
  session: Http2Session,
  socket: Duplex,
  everyMs: number,
  busy: () => boolean,
  stalled: () => void
) {
  let timer: NodeJS.Timeout | undefined
  let last = ''
  const stop = () => {
    clearInterval(timer)
    timer = undefined
    last = ''
  }
  const look = () => {
    if (!busy()) {
      // No stream is open: the idle timeout watches the session now. Stopped here rather than
      // as each stream ends, so that a session serving one stream after another sets no timer
      // per stream.
      stop()
      return
    }
    const waiting = unsentBytes(socket)
    // With the session's send window: a client reading slowly may leave as many bytes waiting
    // at two looks, but not without a byte of DATA sent or a WINDOW_UPDATE taken in between.
    const mark = waiting > 0 ? `${String(waiting)} ${String(session.state.remoteWindowSize)}` : ''
    if (mark !== '' && mark === last) {
      stalled()
      return
    }
    last = mark
  }
  return {
    start() {
      if (timer === undefined) {
        timer = setInterval(look, everyMs)
        timer.unref()
      }
    },
    stop,
  }
}

/**
 * Every `everyMs`, look at the bytes that crossed `raw` either way, and when none did for a whole
 * period: with no stream open, call `idle` (the idle rule, by the bytes rather than by the
 * session's own timeout); with streams open, send a PING, and call `dead` when none came back by
 * the next look. A client that breaks the protocol (a
 * frame over the size limit, a DATA frame on a closed stream) gets nghttp2's GOAWAY, and nghttp2
 * then stops reading and writing while Node tells the session nothing: no 'error', no 'close', no
 * 'timeout'. Such a session, its streams and its socket would stay for the life of the process,
 * the client gone or not. A stream that is open but quiet (an event stream between events) keeps
 * its session: its client answers the PING.
 */
function watchAnswering(
  session: Http2Session,
  raw: Duplex,
  everyMs: number,
  busy: () => boolean,
  on: { idle: () => void; dead: () => void }
): NodeJS.Timeout {
  const tcp = raw as Partial<Socket>
  const read = () => tcp.bytesRead ?? 0
  const moved = () => read() + (tcp.bytesWritten ?? 0)
  let last = moved()
  // The bytes read when a PING went out, until the next look. The PING itself is bytes written:
  // only bytes from the client answer it, or a client that never answers would look alive.
  let readAtPing: number | undefined
  const timer = setInterval(() => {
    if (session.destroyed) {
      // Its 'close' may never come (see above): the watch must not keep it alive.
      clearInterval(timer)
      return
    }
    const now = moved()
    if (readAtPing !== undefined) {
      if (read() === readAtPing) {
        on.dead()
        return
      }
      readAtPing = undefined
      last = now
      return
    }
    if (now !== last) {
      last = now
      return
    }
    if (!busy()) {
      on.idle()
      return
    }
    // Only the client's answer can tell a quiet stream from a session nghttp2 has given up on.
    try {
      if (session.ping(() => {})) {
        readAtPing = read()
      }
    } catch {
      on.dead()
    }
  }, everyMs)
  timer.unref()
  return timer
}

/**
 * The bytes written to `socket` that it has not sent: its handle's write queue, which an HTTP/2
 * session writes to directly (the figure `net.Socket#bufferSize` once reported). 0 where Node
 * does not say.
 */
function unsentBytes(socket: Duplex): number {
  const handle = (socket as { _handle?: { writeQueueSize?: unknown } })._handle
  const size = handle?.writeQueueSize
  return typeof size === 'number' ? size : 0
}
