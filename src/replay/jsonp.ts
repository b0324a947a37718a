/**
 * JSONP answers replayed as pywb replays them: a page asks for `api?callback=jQuery123_456`
 * with a callback name made up on each load, the archive holds the answer to another name
 * (`jQuery999_888({...})`), and the loose key finds it (canonical.ts). The answer then calls the
 * function the page asked for, not the one the crawler's page had, which no longer exists.
 * @module
 */

/** The query parameters that name a JSONP callback. */
const CALLBACK_PARAMS = ['callback', 'jsonp', 'jsoncallback'] as const

/** A JavaScript name, dotted or not (`cb`, `jQuery123_456`, `window.app.done`). */
const NAME = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/

/**
 * A JSONP answer's head: comments (`/**\/`) and spaces, then the function name, then `(` and
 * the JSON object or array it is called with. pywb recognises it the same way.
 */
const JSONP_HEAD =
  /^((?:\s|\/\*[^]*?\*\/)*)([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)(\s*\()(?=\s*[{[])/

/** How much of a body is looked at for that head. */
const HEAD_BYTES = 1024

/** The callback name `url` asks for, when it asks for one. */
function requestedCallback(url: string): string | undefined {
  let params: URLSearchParams
  try {
    params = new URL(url).searchParams
  } catch {
    return undefined
  }
  for (const name of CALLBACK_PARAMS) {
    const value = params.get(name)
    if (value !== null && NAME.test(value)) {
      return value
    }
  }
  return undefined
}

/**
 * The callback a JSONP answer to `url` must call: the one `url` names, for a body whose
 * `Content-Type` may be a script (JavaScript, JSON, text or none) and that is read whole.
 */
export function jsonpCallback(
  url: string,
  contentType: string | null,
  range: string | null
): string | undefined {
  return range === null && /javascript|ecmascript|json|^\s*text\/|^\s*$/i.test(contentType ?? '')
    ? requestedCallback(url)
    : undefined
}

/**
 * `chunks` with the function name at the head of a JSONP answer made `callback`; the body as it
 * is when it does not start as JSONP does, or already calls `callback`.
 */
export async function* renameCallback(
  chunks: AsyncIterable<Uint8Array>,
  callback: string
): AsyncGenerator<Uint8Array> {
  const iterator = chunks[Symbol.asyncIterator]()
  let head = Buffer.alloc(0)
  let ended = false
  while (head.length < HEAD_BYTES) {
    const next = await iterator.next()
    if (next.done) {
      ended = true
      break
    }
    head = Buffer.concat([head, next.value])
  }
  // latin1 keeps one character per byte, so the match's length is its length in bytes.
  const match = JSONP_HEAD.exec(head.toString('latin1'))
  if (match && match[2] !== callback) {
    const [whole, space = '', , paren = ''] = match
    yield Buffer.concat([
      Buffer.from(`${space}${callback}${paren}`, 'latin1'),
      head.subarray(whole.length),
    ])
  } else if (head.length > 0) {
    yield head
  }
  if (!ended) {
    yield* { [Symbol.asyncIterator]: () => iterator }
  }
}
