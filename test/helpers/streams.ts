/** A streamed response through the proxy, for tests of how stopping treats requests in flight. */
import { once } from 'node:events'
import { request as httpRequest } from 'node:http'
import type { IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'

/** Stream `/stream?chunks=N` through the proxy; resolves with the response once it starts. */
export async function streamThrough(port: number, chunks: number) {
  const req = httpRequest({
    host: '127.0.0.1',
    port,
    path: `http://example.com/stream?chunks=${chunks}`,
    headers: { host: 'example.com' },
    agent: false,
  })
  req.end()
  const [res] = (await once(req, 'response')) as [IncomingMessage]
  let body = ''
  const ended = new Promise<{ body: string; complete: boolean }>((resolve) => {
    res.on('data', (chunk: Buffer) => {
      body += chunk.toString()
    })
    res.on('close', () => {
      resolve({ body, complete: res.complete })
    })
  })
  const firstChunk = once(res, 'data')
  return { firstChunk, ended }
}

/**
 * Everything written to `stream` so far, as text. One `read()` is not enough: since Node 26 it
 * returns one written chunk, not all of them.
 */
export function readText(stream: Readable): string {
  let text = ''
  for (
    let chunk = stream.read() as Buffer | null;
    chunk !== null;
    chunk = stream.read() as Buffer | null
  ) {
    text += chunk.toString()
  }
  return text
}
