/**
 * The key of a request body, so that a `POST` (or `PUT`...) finds the capture whose request had
 * the same body. Bodies that mean the same but are written differently get the same key:
 *
 * - a form (`application/x-www-form-urlencoded`, or `multipart/form-data` without its files): its
 *   parameters, sorted;
 * - JSON (whatever its Content-Type: browsers send `fetch(url, { body: JSON.stringify(x) })` as
 *   `text/plain`): each value as a `name=value` pair named by its innermost member, sorted;
 * - anything else: a SHA-256 digest of the bytes.
 *
 * The same key is made from a CDXJ line's `requestBody` field (see {@link cdxjBodyKey}).
 * @module
 */
import { hash } from 'node:crypto'
import { keyHash } from './canonical'

/** A 64-bit digest of a body's canonical form, as two 32-bit halves. */
export type BodyKey = readonly [number, number]

/** Bodies longer than this are not read for matching: such a request matches by URL and method. */
export const BODY_MATCH_MAX_BYTES = 1024 * 1024

/**
 * The longest `requestBody` warcio's CDXJ indexer writes (4,096 characters): one that long may
 * have been cut short, so it says nothing certain about the body.
 */
const CDXJ_REQUEST_BODY_MAX = 4096

/** What a body is once its bytes are read. */
type Pairs = [string, string][]

/**
 * The key of a request body `bytes` sent with Content-Type `contentType`, as
 * `Collection.lookup()` takes it to pick the capture of a `POST` that had the same body. For
 * another method (`PUT`, `PATCH`...), pass it through {@link methodBodyKey} first.
 * @example
 * const body = await bodyKey(new TextEncoder().encode('{"q":"a"}'), 'application/json')
 * collection.lookup('https://example.com/api', MethodClass.other, body)
 */
export async function bodyKey(bytes: Uint8Array, contentType: string | null): Promise<BodyKey> {
  if (bytes.length === 0) {
    return keyHash('')
  }
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase()
  if (type === 'application/x-www-form-urlencoded') {
    return pairsKey([...new URLSearchParams(new TextDecoder().decode(bytes))])
  }
  if (type === 'multipart/form-data' && contentType) {
    const fields = await formFields(bytes, contentType)
    if (fields) {
      return pairsKey(fields)
    }
  }
  return rawKey(bytes)
}

/**
 * The key of a CDXJ `requestBody`: the body as query parameters (a form's own, or JSON values
 * flattened), or `__wb_post_data=` and the body in base64. `undefined` when the field may have
 * been cut short, and then only the request record itself can tell.
 */
export function cdxjBodyKey(requestBody: string): BodyKey | undefined {
  if (requestBody.length >= CDXJ_REQUEST_BODY_MAX) {
    return undefined
  }
  const base64 = /^__wb_post_data=(.*)$/s.exec(requestBody)
  return base64
    ? rawKey(Buffer.from(base64[1] ?? '', 'base64'))
    : pairsKey([...new URLSearchParams(requestBody)])
}

/**
 * `key` as the body of a request of `method`: a `POST`'s as it is, another's (`PUT`, `PATCH`,
 * `DELETE`...) mixed with the method's name, so that a `PUT` and a `POST` of the same URL and body
 * find each their own capture, as pywb's keys (`__wb_method=put&...`) keep them apart.
 * @example
 * const body = await bodyKey(new TextEncoder().encode('{"q":"a"}'), 'application/json')
 * collection.lookup('https://example.com/api', MethodClass.other, methodBodyKey(body, 'PUT'))
 */
export function methodBodyKey(key: BodyKey, method: string): BodyKey {
  const name = method.toUpperCase()
  if (name === 'POST') {
    return key
  }
  const [high, low] = keyHash(`__wb_method=${name}`)
  return [(key[0] ^ high) >>> 0, (key[1] ^ low) >>> 0]
}

/** JSON as its flattened values; any other body as its digest. */
function rawKey(bytes: Uint8Array): BodyKey {
  if (bytes.length === 0) {
    return keyHash('')
  }
  const json = parseJson(bytes)
  if (json !== undefined) {
    const pairs: Pairs = []
    flatten(json.value, '', pairs)
    return pairsKey(pairs)
  }
  return keyHash(`sha256:${hash('sha256', bytes, 'base64')}`)
}

function parseJson(bytes: Uint8Array): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) }
  } catch {
    return undefined
  }
}

/**
 * Each scalar of `value` as a pair named after the member holding it (array items take their
 * array's name). Empty strings, empty objects and empty arrays give no pair, as in the CDXJ
 * `requestBody` warcio writes, so a key made from either agrees.
 */
function flatten(value: unknown, name: string, pairs: Pairs): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      flatten(item, name, pairs)
    }
  } else if (value === null) {
    pairs.push([name, 'null'])
  } else if (typeof value === 'object') {
    for (const [member, item] of Object.entries(value)) {
      flatten(item, member, pairs)
    }
  } else if (value !== '') {
    // A number or boolean reads as it is written in the JSON.
    pairs.push([name, typeof value === 'string' ? value : JSON.stringify(value)])
  }
}

/**
 * Sorted pairs, hashed. warcio tells repeated names apart with a suffix (`q`, `q.2_`, `q.3_`),
 * dropped here on every side, so the pairs compare as a multiset.
 */
function pairsKey(pairs: Pairs): BodyKey {
  const canonical = pairs
    .map(
      ([name, value]) =>
        `${encodeURIComponent(name.replace(/\.\d+_$/, ''))}=${encodeURIComponent(value)}`
    )
    .sort()
    .join('&')
  // No pairs at all is an empty body: warcio writes no requestBody for either.
  return keyHash(canonical === '' ? '' : `form:${canonical}`)
}

/** The text fields of a multipart form, read by Fetch's own parser; files are left out. */
async function formFields(bytes: Uint8Array, contentType: string): Promise<Pairs | undefined> {
  try {
    const form = await new Response(new Uint8Array(bytes), {
      headers: { 'Content-Type': contentType },
    }).formData()
    const pairs: Pairs = []
    for (const [name, value] of form) {
      if (typeof value === 'string') {
        pairs.push([name, value])
      }
    }
    return pairs
  } catch {
    return undefined
  }
}
