/**
 * One HTTP/1.1 connection as the client drives it: sequential requests, written as prepared
 * bytes, and a minimal response parser. node:http's client costs about as much CPU per request
 * as the servers under test, and on a 2-core machine that would compress the differences
 * being measured.
 */
import { once } from 'node:events'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'

/** Also bounds a peer that stalls (http-mitm-proxy blocks for seconds per new host). */
export const IDLE_TIMEOUT_MS = 30_000
const CLOSE_TIMEOUT_MS = 5_000
export const MAX_HEAD_BYTES = 64 * 1024
export const HEAD_END = Buffer.from('\r\n\r\n')
const EXPECTED_BODY = Buffer.from('hello world\n')

export interface Response {
  /** `performance.now()` when the first byte of the response arrived. */
  firstByteAt: number
  /** The server asked to close the connection after this response. */
  close: boolean
}

interface Pending {
  resolve: (response: Response) => void
  reject: (error: Error) => void
  firstByteAt: number
}

/** One connection issuing sequential requests; every response must be `200 hello world`. */
export class HttpConnection {
  readonly socket: Socket
  #buffer: Buffer = Buffer.alloc(0)
  #pending: Pending | undefined
  #failure: Error | undefined

  constructor(socket: Socket) {
    this.socket = socket
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy(new Error('response timed out')))
    socket.on('data', (chunk: Buffer) => {
      this.#onData(chunk)
    })
    socket.on('error', (error) => {
      this.#fail(error)
    })
    socket.on('close', () => {
      this.#fail(new Error('connection closed by the server'))
    })
  }

  request(head: Buffer): Promise<Response> {
    if (this.#failure) {
      return Promise.reject(this.#failure)
    }
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject, firstByteAt: 0 }
      this.socket.write(head)
    })
  }

  /** Ends the connection; resolves once the socket is fully closed. */
  async close(): Promise<void> {
    if (this.socket.closed) {
      return
    }
    const closed = once(this.socket, 'close').then(
      () => {},
      () => {}
    )
    this.socket.end()
    // A server that never closes its side must not hang the run.
    const timer = setTimeout(() => this.socket.destroy(), CLOSE_TIMEOUT_MS)
    await closed
    clearTimeout(timer)
  }

  #fail(error: Error): void {
    this.#failure ??= error
    const pending = this.#pending
    this.#pending = undefined
    pending?.reject(error)
  }

  #onData(chunk: Buffer): void {
    const pending = this.#pending
    if (!pending) {
      return
    }
    if (pending.firstByteAt === 0) {
      pending.firstByteAt = performance.now()
    }
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk])
    const parsed = parseResponse(this.#buffer)
    if (parsed === undefined) {
      return
    }
    this.#pending = undefined
    this.#buffer = this.#buffer.subarray(parsed.end)
    if (parsed.status !== 200 || !parsed.body.equals(EXPECTED_BODY)) {
      const error = new Error(`unexpected response ${parsed.status}: ${String(parsed.body)}`)
      pending.reject(error)
      this.socket.destroy()
      return
    }
    pending.resolve({ firstByteAt: pending.firstByteAt, close: parsed.close })
  }
}

interface ParsedResponse {
  status: number
  body: Buffer
  close: boolean
  end: number
}

/** Parses one response from the start of `data`, or returns undefined while it is incomplete. */
export function parseResponse(data: Buffer): ParsedResponse | undefined {
  const headEnd = data.indexOf(HEAD_END)
  if (headEnd === -1) {
    if (data.length > MAX_HEAD_BYTES) {
      throw new Error('response head too large')
    }
    return undefined
  }
  const head = data.toString('latin1', 0, headEnd)
  const status = Number(head.slice(9, 12))
  const close = /\r\nconnection: *close/i.test(head)
  const bodyStart = headEnd + 4
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
    return parseChunked(data, bodyStart, status, close)
  }
  const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1]
  if (length === undefined) {
    throw new Error(`response ${status} has no length: ${head}`)
  }
  const end = bodyStart + Number(length)
  if (data.length < end) {
    return undefined
  }
  return { status, close, end, body: data.subarray(bodyStart, end) }
}

function parseChunked(data: Buffer, start: number, status: number, close: boolean) {
  const chunks: Buffer[] = []
  let offset = start
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset)
    if (lineEnd === -1) {
      return undefined
    }
    const size = parseInt(data.toString('latin1', offset, lineEnd), 16)
    if (Number.isNaN(size)) {
      throw new Error('malformed chunk size')
    }
    if (size === 0) {
      // No trailers are expected: the last chunk is followed by an empty line.
      if (data.length < lineEnd + 4) {
        return undefined
      }
      return { status, close, end: lineEnd + 4, body: Buffer.concat(chunks) }
    }
    const chunkEnd = lineEnd + 2 + size
    if (data.length < chunkEnd + 2) {
      return undefined
    }
    chunks.push(data.subarray(lineEnd + 2, chunkEnd))
    offset = chunkEnd + 2
  }
}

export function requestHead(target: string, host: string): Buffer {
  return Buffer.from(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\n\r\n`)
}
