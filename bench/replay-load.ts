/**
 * The replay benchmark's load: keep-alive connections to a proxy, each sending absolute-form
 * GETs for the sampled archived URLs in turn, every answer checked (status 200, a body).
 */
import { once } from 'node:events'
import type { Socket } from 'node:net'
import { connectTcp } from './client'
import { parseResponse } from './http-connection'

/** What a load run did. */
export interface LoadResult {
  requests: number
  bytes: number
  seconds: number
}

/** One response from `socket` for the request just written. */
function response(socket: Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffer: Buffer = Buffer.alloc(0)
    const onData = (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk])
      let parsed
      try {
        parsed = parseResponse(buffer)
      } catch (error) {
        done()
        reject(error instanceof Error ? error : new Error(String(error)))
        return
      }
      if (!parsed) {
        return
      }
      done()
      if (parsed.status !== 200 || parsed.body.length === 0 || parsed.end !== buffer.length) {
        reject(new Error(`unexpected response ${parsed.status} (${parsed.body.length} bytes)`))
        return
      }
      resolve(parsed.body.length)
    }
    const onClose = () => {
      done()
      reject(new Error('connection closed by the server'))
    }
    const done = () => {
      socket.off('data', onData)
      socket.off('close', onClose)
    }
    socket.on('data', onData)
    socket.on('close', onClose)
  })
}

/** Run `connections` keep-alive clients over `urls` for `seconds`. */
export async function replayLoad(
  port: number,
  urls: string[],
  seconds: number,
  connections = 16
): Promise<LoadResult> {
  const heads = urls.map((url) =>
    Buffer.from(`GET ${url} HTTP/1.1\r\nHost: ${new URL(url).host}\r\n\r\n`)
  )
  const started = performance.now()
  const deadline = started + seconds * 1000
  let requests = 0
  let bytes = 0
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      const socket = await connectTcp(port)
      try {
        const first = Math.floor((c * heads.length) / connections)
        for (let i = first; performance.now() < deadline; i++) {
          const head = heads[i % heads.length] as Buffer
          const answer = response(socket)
          socket.write(head)
          bytes += await answer
          requests++
        }
      } finally {
        socket.end()
        await once(socket, 'close')
      }
    })
  )
  return { requests, bytes, seconds: (performance.now() - started) / 1000 }
}
