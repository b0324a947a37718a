/**
 * The body of a request whose `Upgrade` the proxy ignores (`Upgrade: h2c` on a POST), as the
 * Node version at hand delivers it, so that the request can be replayed without its Upgrade.
 * @module
 */
import type { IncomingMessage } from 'node:http'

/**
 * The most body bytes of an ignored-Upgrade request held to replay it. Only Node 26 and later
 * need to hold any (see {@link readUpgradeBody}); `curl --http2 -d` on an http:// URL sends a
 * form or a JSON document, well under this.
 */
export const UPGRADE_BODY_MAX_BYTES = 1024 * 1024

/**
 * Node 26 parses the body of an Upgrade request into the request stream, and `head` holds only
 * the bytes after it (nodejs/node#60016). Up to Node 25 the parser stops after the headers: the
 * body is in `head` and still on the socket. A body already in the request (a backport) also
 * says so.
 */
const BODY_IN_REQUEST = Number(process.versions.node.split('.')[0]) >= 26

/** Where the body of an ignored-Upgrade request is. */
export type UpgradeBody =
  /** Still in the bytes of the connection (`head` and what follows): replay them as they are. */
  | { kind: 'in-stream' }
  /** Read out of the request, framing removed: replay it with a `Content-Length`. */
  | { kind: 'read'; body: Buffer }
  /** Longer than {@link UPGRADE_BODY_MAX_BYTES}, or the client left before it ended. */
  | { kind: 'failed'; tooLarge: boolean }

/** Wait for the body of `req` wherever this Node version puts it. */
export function readUpgradeBody(
  req: IncomingMessage,
  maxBytes = UPGRADE_BODY_MAX_BYTES
): Promise<UpgradeBody> {
  if (!BODY_IN_REQUEST && req.complete && req.readableLength === 0) {
    return Promise.resolve({ kind: 'in-stream' })
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let length = 0
    const done = (result: UpgradeBody) => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('close', onClose)
      resolve(result)
    }
    const onData = (chunk: Buffer) => {
      length += chunk.length
      if (length > maxBytes) {
        done({ kind: 'failed', tooLarge: true })
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      done({ kind: 'read', body: Buffer.concat(chunks, length) })
    }
    const onClose = () => {
      done({ kind: 'failed', tooLarge: false })
    }
    req.on('data', onData)
    req.once('end', onEnd)
    req.once('close', onClose)
  })
}
