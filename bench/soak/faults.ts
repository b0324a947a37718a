/**
 * The bad responses the soak's app can give, each switchable with `--faults`: what replay apps
 * pass through from archives, and what made the proxy exit or desync before it checked the
 * app's response (issue 20). Each is asked for at `/fault/<kind>`.
 */

/** Every kind of bad response, and the protocol the soak asks for it over. */
export const FAULTS = {
  /**
   * A status outside 200-599 (LinkedIn's 999, common in web archives), over HTTP/1.1 and h2 in
   * turn: Node's HTTP/1.1 writer takes 100-999, its HTTP/2 one only 200-599.
   */
  'status-999': 'both',
  /** Hop-by-hop headers (`Keep-Alive`, `Transfer-Encoding`, `Upgrade`), which h2 forbids. */
  'h2-hop-by-hop': 'h2',
  /** A `Content-Length` shorter than the body: the rest must not become the next response. */
  'short-length': 'http/1.1',
  /** A `Content-Length` longer than the body: the client must not wait for ever. */
  'long-length': 'http/1.1',
} as const

export type FaultKind = keyof typeof FAULTS

export const FAULT_KINDS = Object.keys(FAULTS) as FaultKind[]

/** `all`, `none`, or a comma-separated list of kinds. */
export function parseFaults(value: string): FaultKind[] {
  if (value === 'all') {
    return FAULT_KINDS
  }
  if (value === 'none' || value === '') {
    return []
  }
  const kinds = value.split(',')
  for (const kind of kinds) {
    if (!(FAULT_KINDS as string[]).includes(kind)) {
      throw new Error(`--faults: unknown kind ${kind}; the kinds are ${FAULT_KINDS.join(', ')}`)
    }
  }
  return kinds as FaultKind[]
}

/** The response of `kind`, built as a replay app would pass an archived one through. */
export function faultResponse(kind: string): Response | undefined {
  switch (kind) {
    case 'status-999':
      // @hono/node-server's Response keeps the status as given; Node's writeHead is what refuses it.
      return new Response('request denied\n', { status: 999 })
    case 'h2-hop-by-hop':
      return new Response('archived\n', {
        headers: {
          'keep-alive': 'timeout=5',
          'transfer-encoding': 'chunked',
          upgrade: 'h2c',
          'content-type': 'text/plain',
        },
      })
    case 'short-length':
      return new Response('HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nsmuggled', {
        headers: { 'content-length': '5', 'content-type': 'text/plain' },
      })
    case 'long-length':
      return new Response('short', {
        headers: { 'content-length': '100', 'content-type': 'text/plain' },
      })
    default:
      return undefined
  }
}
