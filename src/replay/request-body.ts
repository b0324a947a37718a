/**
 * The key of a client's request body, read up to {@link BODY_MATCH_MAX_BYTES}: a larger body is
 * drained without being kept, so memory stays bounded whatever a client uploads.
 * @module
 */
import type { BodyKey } from './body-key'
import { BODY_MATCH_MAX_BYTES, bodyKey, methodBodyKey } from './body-key'

/**
 * The key of `request`'s body (and method, see {@link methodBodyKey}), or `undefined` when it is
 * too large to be matched.
 */
export async function requestBodyKey(request: Request): Promise<BodyKey | undefined> {
  const key = await bodyKeyOf(request)
  return key && methodBodyKey(key, request.method)
}

async function bodyKeyOf(request: Request): Promise<BodyKey | undefined> {
  const type = request.headers.get('content-type')
  const declared = Number(request.headers.get('content-length'))
  if (declared > BODY_MATCH_MAX_BYTES) {
    return undefined
  }
  if (!request.body) {
    return bodyKey(new Uint8Array(), type)
  }
  const chunks: Uint8Array[] = []
  let size = 0
  // Read to the end even past the limit (keeping nothing): the connection then stays usable for
  // the client's next request, which an abandoned body would leave half-read.
  for await (const chunk of request.body) {
    size += chunk.length
    if (size <= BODY_MATCH_MAX_BYTES) {
      chunks.push(chunk)
    } else {
      chunks.length = 0
    }
  }
  return size > BODY_MATCH_MAX_BYTES ? undefined : bodyKey(Buffer.concat(chunks), type)
}
