/**
 * The soak's HTTP/2 and WebSocket clients: h2 keep-alive sessions closed with GOAWAY, sessions
 * ended by a bare FIN (socket end or destroy, no GOAWAY, as httpx and curl do), idle sessions
 * held until the proxy closes them or the client gives up, ws and wss echoes, and the h2 fault
 * followed by a probe on the same session.
 */
import WebSocket from 'ws'
import { once } from 'node:events'
import type { LoopStats, Operation } from './loop'
import { aborted, note } from './loop'
import type { Target } from './tunnel'
import { connectTunnel, h2Get, h2Session, tlsTunnel } from './tunnel'

/** Requests per keep-alive session before it is closed with GOAWAY and another opened. */
const REQUESTS_PER_SESSION = 100

/** How long an idle session is held before the client closes it itself. */
const IDLE_HOLD_MS = 40_000

function expectOk(body: string, url: string): void {
  if (body !== `ok /${url}\n`) {
    throw new Error(`wrong answer: ${JSON.stringify(body.slice(0, 60))}`)
  }
}

/** The HTTP/2 and WebSocket operations, by loop name. */
export function h2Operations(target: Target, stats: Record<string, LoopStats>) {
  const h2: Operation = async (signal, i) => {
    const { session } = await h2Session(target, 'h2.example', signal)
    try {
      for (let n = 0; n < REQUESTS_PER_SESSION && !signal.aborted; n++) {
        const begin = performance.now()
        const path = `/${i}/${n}`
        const { body } = await h2Get(session, path, signal)
        expectOk(body, `https://h2.example${path}`)
        stats.h2?.latencies.push(performance.now() - begin)
      }
    } finally {
      session.close()
    }
    return 'done'
  }

  const h2Fin: Operation = async (signal, i) => {
    const { session, tls } = await h2Session(target, 'fin.example', signal)
    expectOk((await h2Get(session, `/${i}`, signal)).body, `https://fin.example/${i}`)
    // The socket goes without a GOAWAY: a FIN from end(), or destroy() as a killed client's.
    if (i % 2 === 0) {
      tls.end()
    } else {
      tls.destroy()
    }
    return 'ok'
  }

  const h2Idle: Operation = async (signal, i) => {
    const { session } = await h2Session(target, 'idle.example', signal)
    if (i % 2 === 0) {
      await h2Get(session, '/one-stream', signal)
    }
    const closed = once(session, 'close').then(() => true)
    const held = new Promise<false>((resolve) => setTimeout(resolve, IDLE_HOLD_MS, false))
    const byProxy = await Promise.race([closed, held, aborted(signal)])
    if (stats.h2Idle) {
      note(stats.h2Idle, byProxy ? 'closed by the proxy' : `open after ${IDLE_HOLD_MS / 1000} s`)
    }
    session.close()
    return 'ok'
  }

  const websocket: Operation = async (signal, i) => {
    const secure = i % 2 === 0
    const host = 'ws.example'
    const socket = secure
      ? await tlsTunnel(target, host, ['http/1.1'], signal)
      : await connectTunnel(target, `${host}:80`, signal)
    const url = `${secure ? 'wss' : 'ws'}://${host}/ws`
    const ws = new WebSocket(url, { createConnection: () => socket })
    ws.on('error', () => {})
    try {
      await Promise.race([once(ws, 'open'), aborted(signal)])
      for (let n = 0; n < 5; n++) {
        const text = `message ${i}.${n}`
        ws.send(text)
        const [data] = (await Promise.race([once(ws, 'message'), aborted(signal)])) as [Buffer]
        if (data.toString() !== text) {
          throw new Error(`wrong echo: ${data.toString().slice(0, 40)}`)
        }
      }
      ws.close(1000)
      await Promise.race([once(ws, 'close'), aborted(signal)])
    } finally {
      ws.terminate()
    }
    return 'ok'
  }

  const h2Fault =
    (kind: string): Operation =>
    async (signal, i) => {
      const { session } = await h2Session(target, 'faults.example', signal)
      try {
        const faultSignal = AbortSignal.any([signal, AbortSignal.timeout(2_000)])
        await h2Get(session, `/fault/${kind}`, faultSignal).catch(() => {})
        const path = `/probe/${kind}/${i}`
        expectOk((await h2Get(session, path, signal)).body, `https://faults.example${path}`)
      } finally {
        session.close()
      }
      return 'ok'
    }

  return { h2, h2Fin, h2Idle, websocket, h2Fault }
}
