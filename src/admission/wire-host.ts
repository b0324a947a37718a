/**
 * Host names as they come off the wire. Node hands over the bytes of a Host header, an HTTP/2
 * `:authority` and a TLS server name as Latin-1 text, one character per byte, so a client that
 * sends `bücher.de` in UTF-8 (as curl, browsers and Node's TLS do for a raw name) arrives as
 * `bÃ¼cher.de`. Reading those bytes as the UTF-8 they are gives the name the client meant.
 * @module
 */

const decoder = new TextDecoder('utf-8', { fatal: true })

// eslint-disable-next-line no-control-regex -- the whole ASCII range, NUL included
const ASCII = /^[\x00-\x7f]*$/
/** Text that may stand for bytes: no character above U+00FF. */
// eslint-disable-next-line no-control-regex -- the whole Latin-1 range, NUL included
const BYTES = /^[\x00-\xff]*$/

/**
 * The host name `text` spells, read from its bytes as UTF-8; `undefined` when those bytes are
 * not UTF-8 (a name in another encoding means nothing certain). ASCII is returned as it is, and
 * so is text that holds a character above U+00FF, which cannot have come from the wire.
 * @example hostFromWire('b\u00c3\u00bccher.de') // 'bücher.de'
 */
export function hostFromWire(text: string): string | undefined {
  if (ASCII.test(text) || !BYTES.test(text)) {
    return text
  }
  try {
    return decoder.decode(Buffer.from(text, 'latin1'))
  } catch {
    return undefined
  }
}
