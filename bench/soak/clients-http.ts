/**
 * The soak's HTTP/1.x clients: keep-alive through the proxy (plain and inside TLS tunnels),
 * SOCKS5, never-seen hosts (a certificate each), slow readers, clients that reset, and the bad
 * responses of faults.ts followed by a probe on the same connection.
 */
import { SocksProxyAgent } from 'socks-proxy-agent'
import { Client, ProxyAgent, request as undiciRequest } from 'undici'
import { once } from 'node:events'
import { Agent, request as httpRequest } from 'node:http'
import type { IncomingMessage, RequestOptions } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { FaultKind } from './faults'
import type { Operation } from './loop'
import { aborted } from './loop'
import type { Target } from './tunnel'
import { connectTunnel } from './tunnel'

/** `ok <path>` is what the app answers; anything else is another request's answer. */
function expectOk(body: string, url: string): void {
  const want = `ok /${url}\n`
  if (body !== want) {
    throw new Error(`wrong answer: ${JSON.stringify(body.slice(0, 60))}`)
  }
}

/**
 * Until `res` has something to read or has ended; rejects on its error or an abort. Its
 * listeners go when it settles, so a slow read adds none per chunk.
 */
function readableOrEnd(res: IncomingMessage, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      res.off('readable', done).off('end', done).off('error', fail)
      signal.removeEventListener('abort', stop)
      if (error) {
        reject(error)
      } else {
        resolve()
      }
    }
    const done = () => {
      settle()
    }
    const fail = (error: Error) => {
      settle(error)
    }
    const stop = () => {
      settle(new Error('aborted'))
    }
    if (signal.aborted) {
      stop()
      return
    }
    res.once('readable', done).once('end', done).once('error', fail)
    signal.addEventListener('abort', stop, { once: true })
  })
}

/** One absolute-form GET through the proxy, until its response head arrives. */
async function respond(
  target: Target,
  url: string,
  options: RequestOptions,
  signal: AbortSignal
): Promise<IncomingMessage> {
  const req = httpRequest({ host: '127.0.0.1', port: target.port, path: url, signal, ...options })
  req.on('error', () => {})
  req.end()
  const [res] = (await Promise.race([once(req, 'response'), aborted(signal)])) as [IncomingMessage]
  return res
}

/** One absolute-form GET through the proxy: status and body. */
async function get(target: Target, url: string, options: RequestOptions, signal: AbortSignal) {
  const res = await respond(target, url, options, signal)
  const chunks: Buffer[] = []
  for await (const chunk of res) {
    chunks.push(chunk as Buffer)
  }
  return { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }
}

/** The HTTP/1.x operations, by loop name. */
export function httpOperations(target: Target, run: string) {
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 })
  const proxyAgent = new ProxyAgent({
    uri: `http://127.0.0.1:${target.port}`,
    requestTls: { ca: target.caPem },
  })
  const socksAgent = new SocksProxyAgent(`socks5h://127.0.0.1:${target.port}`)

  const http1: Operation = async (signal, i) => {
    const url = i % 2 ? `http://keepalive.example/${i}` : `https://keepalive.example/${i}`
    if (url.startsWith('http:')) {
      const { body } = await get(target, url, { agent: keepAlive }, signal)
      expectOk(body, url)
    } else {
      const res = await undiciRequest(url, { dispatcher: proxyAgent, signal })
      expectOk(await res.body.text(), url)
    }
    return 'ok'
  }

  const socks: Operation = async (signal, i) => {
    const secure = i % 2 === 0
    const url = `${secure ? 'https' : 'http'}://socks.example/${i}`
    const send = secure ? httpsRequest : httpRequest
    const req = send(url, { agent: socksAgent, ca: target.caPem, signal })
    req.on('error', () => {})
    req.end()
    const [res] = (await Promise.race([once(req, 'response'), aborted(signal)])) as [
      IncomingMessage,
    ]
    const chunks: Buffer[] = []
    for await (const chunk of res) {
      chunks.push(chunk as Buffer)
    }
    expectOk(Buffer.concat(chunks).toString(), url)
    return 'ok'
  }

  const newHosts: Operation = async (signal, i) => {
    // Under a public suffix, so each host gets a certificate of its own, never a wildcard.
    const url = `https://new-${run}-${i}.com/`
    const res = await undiciRequest(url, { dispatcher: proxyAgent, signal, reset: true })
    expectOk(await res.body.text(), url)
    return 'ok'
  }

  const slowReaders: Operation = async (signal, i) => {
    const url = `http://slow.example/bytes/${1024 * 1024}?${i}`
    const res = await respond(target, url, { agent: false }, signal)
    let received = 0
    // About 32 KB every 100 ms: a 1 MiB body takes about 3 s to read. read() takes what is
    // buffered, whatever its size: read(n) returns null while less than n is buffered, and a
    // 'readable' listener added then fires on the next tick, a loop that starves the socket.
    for (;;) {
      const chunk = res.read() as Buffer | null
      if (chunk) {
        received += chunk.length
        await new Promise((resolve) => setTimeout(resolve, (100 * chunk.length) / (32 * 1024)))
        continue
      }
      if (res.readableEnded) {
        break
      }
      await readableOrEnd(res, signal)
    }
    if (received !== 1024 * 1024) {
      throw new Error(`slow reader got ${received} bytes`)
    }
    return 'ok'
  }

  const resets: Operation = async (signal, i) => {
    if (i % 2 === 0) {
      // A TLS record header and nothing more, then a reset.
      const socket = await connectTunnel(target, `reset-${i % 10}.example:443`, signal)
      socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]))
      socket.resetAndDestroy()
      return 'expected'
    }
    const url = `http://reset.example/bytes/${1024 * 1024}`
    const res = await respond(target, url, { agent: false }, signal)
    await readableOrEnd(res, signal)
    res.socket.resetAndDestroy()
    return 'expected'
  }

  /**
   * The fault and a probe pipelined behind it on one connection: the probe's answer must be its
   * own, not the rest of the fault's body. A body shorter than its length holds the connection,
   * so that fault's probe goes on a connection of its own, to show the proxy still answers.
   */
  const fault =
    (kind: FaultKind): Operation =>
    async (signal, i) => {
      const client = new Client(`http://127.0.0.1:${target.port}`, { pipelining: 2 })
      const ask = (path: string, askSignal: AbortSignal) =>
        client
          .request({ method: 'GET', path, headers: { host: 'faults.example' }, signal: askSignal })
          .then((res) => res.body.text())
      try {
        const faultSignal = AbortSignal.any([signal, AbortSignal.timeout(2_000)])
        const bad = ask(`http://faults.example/fault/${kind}`, faultSignal).catch(() => '')
        const url = `http://faults.example/probe/${kind}/${i}`
        if (kind === 'long-length') {
          await bad
          const res = await undiciRequest(url, { dispatcher: proxyAgent, signal })
          expectOk(await res.body.text(), url)
        } else {
          expectOk(await ask(url, signal), url)
        }
        return 'ok'
      } finally {
        await client.destroy()
      }
    }

  const close = async () => {
    keepAlive.destroy()
    socksAgent.destroy()
    await proxyAgent.close()
  }
  return { http1, socks, newHosts, slowReaders, resets, fault, close }
}
