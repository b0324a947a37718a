/**
 * SOCKS5 on the proxy's own port (RFC 1928): the greeting, username/password (RFC 1929), one
 * CONNECT request admitted by the same gate as an HTTP CONNECT (the credentials stand for
 * `Proxy-Authorization: Basic`), then the connection is a tunnel like any other (`openTunnel`).
 * Everything before the success reply is bounded by `handshakeTimeoutMs` and a few hundred bytes.
 * @module
 */
import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import type { Challenge, Refusal, TunnelAdmission } from '../admission/decision'
import { toError } from '../errors'
import { rememberPeer } from '../log/watch'
import type { Settled } from '../util/settled'
import { andThen } from '../util/settled'
import { endSocket } from './replies'
import type { Parsed } from './socks5'
import {
  METHOD,
  REPLY,
  basicAuthorization,
  parseCredentials,
  parseGreeting,
  parseRequest,
  replyBytes,
} from './socks5'
import type { TunnelDeps } from './tunnel'
import { openTunnel } from './tunnel'

/** More than the longest handshake message (credentials: 513 bytes, RFC 1929) can need. */
const MAX_HANDSHAKE_BYTES = 4096

const NO_METHOD = Buffer.from([0x05, METHOD.noneAcceptable])
/** The RFC 1929 status that makes the client close. */
const AUTH_FAILED = Buffer.from([0x01, 0x01])

/** The stage of a handshake: what the next bytes must be. */
type Stage = 'greeting' | 'credentials' | 'request' | 'deciding' | 'over'

/**
 * Speak SOCKS5 on `socket`, whose first byte was 0x05 (still unread), and on success make it a
 * tunnel parsed by `server`. Never throws; problems go to `onError`.
 */
export function handleSocks(server: Server, socket: Socket, deps: TunnelDeps): void {
  const { gate, options } = deps
  let stage: Stage = 'greeting'
  let buffered: Buffer = Buffer.alloc(0)
  let authorization: string | undefined
  let target: string | undefined

  if (options.onLog) {
    rememberPeer(socket)
  }
  socket.on('error', (error) => {
    options.onError(error, { phase: 'tunnel', host: target })
  })
  deps.connections.track(socket)
  // A client that stops mid-handshake holds nothing for long. While admission decides, the
  // client waits on the proxy: the gate answers within admissionTimeoutMs, and the client gets
  // its full deadline again for the messages after.
  const deadline = () => setTimeout(() => socket.destroy(), options.handshakeTimeoutMs)
  let timer = deadline()
  const deciding = () => {
    stage = 'deciding'
    clearTimeout(timer)
    // Nothing more is read while admission decides: a client that keeps sending meanwhile meets
    // TCP flow control instead of filling memory.
    socket.pause()
  }
  const stop = () => {
    stage = 'over'
    clearTimeout(timer)
    socket.off('data', onData)
    socket.off('end', onEnd)
  }
  /**
   * Give up on the handshake: send `last` (a refusal the client can read) or just close. A
   * `reason` is a client's protocol error, for `onError`; admission's decisions have none (a 407
   * to a CONNECT is no error either, and a failing resolver is reported by the gate).
   */
  const fail = (reason: string | undefined, last?: Buffer) => {
    stop()
    if (reason !== undefined) {
      options.onError(new Error(`SOCKS5: ${reason}`), { phase: 'connect', host: target })
    }
    if (last === undefined || socket.destroyed) {
      socket.destroy()
      return
    }
    endSocket(socket, last)
  }
  /** Take one complete message off the front of the buffer, or report why there is none. */
  const take = <T>(parsed: Parsed<T>): T | undefined => {
    if (parsed.kind === 'incomplete') {
      return undefined
    }
    if (parsed.kind === 'invalid') {
      fail(parsed.reason, parsed.reply === undefined ? undefined : replyBytes(parsed.reply))
      return undefined
    }
    buffered = buffered.subarray(parsed.length)
    return parsed.value
  }

  const onGreeting = (methods: ReadonlySet<number>) => {
    // With requireAuth, prefer credentials: they bind the tunnel as Proxy-Authorization does.
    const wantsAuth = typeof options.resolver.requireAuth === 'function'
    if (methods.has(METHOD.password) && (wantsAuth || !methods.has(METHOD.none))) {
      socket.write(Buffer.from([0x05, METHOD.password]))
      stage = 'credentials'
      return
    }
    if (!methods.has(METHOD.none)) {
      fail('no offered method is supported (no authentication, username/password)', NO_METHOD)
      return
    }
    const accept = (denied: Challenge | Refusal | undefined) => {
      if (socket.destroyed) {
        stop()
        return
      }
      // Asked for credentials the client cannot give: no acceptable method. A failing resolver
      // is asked again for the tunnel, whose refusal (reply 0x01) the client can read.
      if (denied?.kind === 'challenge') {
        fail(undefined, NO_METHOD)
        return
      }
      socket.write(Buffer.from([0x05, METHOD.none]))
      stage = 'request'
      timer = deadline()
      socket.resume()
      onData()
    }
    deciding()
    settle(gate.admitAnonymous(), accept)
  }

  const onCredentials = (credentials: Parameters<typeof basicAuthorization>[0]) => {
    authorization = basicAuthorization(credentials)
    if (authorization === undefined) {
      fail('a username with a colon cannot stand for Basic credentials', AUTH_FAILED)
      return
    }
    // Any credentials pass here: admission decides once the target is known.
    socket.write(Buffer.from([0x01, 0x00]))
    stage = 'request'
  }

  const onRequest = (named: string) => {
    target = named
    deciding()
    settle(gate.admitTunnel(undefined, named, authorization), decided)
  }

  const decided = (admission: TunnelAdmission) => {
    if (socket.destroyed) {
      stop()
      return
    }
    if (admission.kind !== 'open') {
      // A failing resolver is the proxy's failure; anything else is a refusal by its rules.
      const failing = admission.kind === 'refuse' && admission.status >= 500
      fail(undefined, replyBytes(failing ? REPLY.generalFailure : REPLY.notAllowed))
      return
    }
    stop()
    socket.write(replyBytes(REPLY.succeeded))
    openTunnel(server, socket, buffered, admission, authorization, deps)
  }

  /** Run `next` on a decision now or later; a decision that fails closes the connection. */
  const settle = <T>(value: Settled<T>, next: (value: T) => void) => {
    const done = andThen(value, next)
    if (done instanceof Promise) {
      done.catch((error: unknown) => {
        stop()
        options.onError(toError(error), { phase: 'connect', host: target })
        socket.destroy()
      })
    }
  }

  function onData(chunk?: Buffer): void {
    if (chunk) {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
    }
    while (stage === 'greeting' || stage === 'credentials' || stage === 'request') {
      const before = buffered.length
      if (stage === 'greeting') {
        const methods = take(parseGreeting(buffered))
        if (methods !== undefined) {
          onGreeting(methods)
        }
      } else if (stage === 'credentials') {
        const credentials = take(parseCredentials(buffered))
        if (credentials !== undefined) {
          onCredentials(credentials)
        }
      } else {
        const request = take(parseRequest(buffered))
        if (request !== undefined) {
          onRequest(request)
        }
      }
      if (buffered.length === before) {
        break
      }
    }
    // Every handshake message is short (RFC 1928, RFC 1929): waiting for more is bounded.
    if (stage !== 'deciding' && stage !== 'over' && buffered.length > MAX_HANDSHAKE_BYTES) {
      fail(`more than ${MAX_HANDSHAKE_BYTES} bytes without a complete handshake message`)
    }
  }

  function onEnd(): void {
    stop()
    socket.destroy()
  }

  socket.on('data', onData)
  socket.on('end', onEnd)
  socket.resume()
}
