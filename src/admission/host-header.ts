/**
 * The Host header rules of RFC 9112 §3.2 that Node's parser leaves to the server: at most one
 * Host line in a request, and one in every HTTP/1.1 request.
 * @module
 */
import type { AskedRequest, Refusal } from './decision'
import { refuse } from './decision'

const REPEATED = refuse(400, 'More than one Host header: a request names one host (RFC 9112 §3.2)')
const MISSING = refuse(400, 'An HTTP/1.1 request needs a Host header (RFC 9112 §3.2)')

/** Why `request`'s Host lines break the rules, or `undefined` when they keep them. */
export function hostHeaderRefusal(request: AskedRequest): Refusal | undefined {
  const raw = request.rawHeaders
  let seen = false
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? ''
    // Told apart by length first: no other name is lower-cased.
    if (
      name.length === 4 &&
      (name === 'Host' || name === 'host' || name.toLowerCase() === 'host')
    ) {
      if (seen) {
        return REPEATED
      }
      seen = true
    }
  }
  return !seen && request.httpVersionMajor === 1 && request.httpVersionMinor === 1
    ? MISSING
    : undefined
}
