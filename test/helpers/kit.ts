/**
 * What the test kit's own tests ask through a proxy from startProxy.
 */
import type { TestProxy } from '../../src/testing/start-proxy'

/** GET `url` through `proxy`'s dispatcher: the status, the Content-Type when asked, the body. */
export async function getThrough(
  proxy: TestProxy | undefined,
  url: string,
  { contentType = false } = {}
): Promise<string> {
  const response = await fetch(url, { dispatcher: proxy?.dispatcher } as RequestInit)
  const type = contentType ? ` ${response.headers.get('content-type')}\n` : ' '
  return `${response.status}${type}${await response.text()}`
}
