/**
 * Requests that Node's HTTP/1 parser takes though they are not HTTP/1: answered with 505.
 * @module
 */
import type { IncomingMessage } from 'node:http'
import { refuse } from '../admission/decision'
import type { Refusal } from '../admission/decision'

/**
 * The refusal of a request Node's HTTP/1 parser took though its line names no HTTP/1 version: it
 * lets through a line without one (HTTP/0.9) and `HTTP/2.0`, which is no HTTP/2 (that begins with
 * its preface, or inside TLS with ALPN `h2`). The exchange is HTTP/1.1, the 505 included, and
 * the request is made to say so, so that its access record and metrics do not count it as h2.
 */
export function notHttp1(req: IncomingMessage): Refusal {
  const message = `This port speaks HTTP/1.0 and HTTP/1.1, not HTTP/${req.httpVersion}`
  req.httpVersion = '1.1'
  req.httpVersionMajor = 1
  req.httpVersionMinor = 1
  return refuse(505, message)
}
