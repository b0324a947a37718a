/**
 * How the running command stops: the first SIGINT or SIGTERM drains (nothing new is accepted,
 * requests in flight finish within the shutdown timeout, WebSockets are closed with 1001 "going
 * away"), then the process exits even if the app still holds timers; a second signal exits at once.
 * @module
 */
import type { Server } from 'node:http'
import { drainable } from '../cluster/drain'
import type { Proxy } from '../types'
import type { Io } from './io'
import { UsageError } from './io'

/** The signals that stop the proxy: a terminal's Ctrl-C, and systemd's or Docker's stop. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const

/** The close code a WebSocket gets when the proxy stops (RFC 6455 §7.4.1). */
const GOING_AWAY = 1001

/** What {@link stopOnSignals} listens to and how it ends the process; tests pass their own. */
export interface StopControl {
  /** Where SIGINT and SIGTERM come from. @default process */
  signals?: NodeJS.EventEmitter
  /** Ends the process with `code`. @default sets process.exitCode */
  exit?: (code: number) => void
}

/** A WebSocket server whose clients can be told that the proxy goes away. */
export interface ClosableWebSockets {
  clients: Iterable<{ close(code?: number, reason?: string): void }>
  close(): void
}

/** `--shutdown-timeout SECONDS` in milliseconds: a number of seconds >= 0. */
export function shutdownTimeoutMs(value: string): number {
  const seconds = Number(value)
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 0) {
    throw new UsageError(
      `--shutdown-timeout must be a number of seconds >= 0, got ${JSON.stringify(value)}`
    )
  }
  return seconds * 1000
}

/**
 * Make one proxy process stoppable as a worker of `--workers` is: call it before the server
 * takes requests. The returned function announces the stop on stderr, drains, and resolves once
 * the proxy is closed.
 */
export function drainingStop(
  proxy: Proxy,
  server: Server,
  websockets: ClosableWebSockets,
  timeoutMs: number,
  io: Io
): () => Promise<void> {
  const { drain } = drainable(server)
  return async () => {
    io.stderr.write(
      `wsgiprox: stopping; requests in flight have ${timeoutMs / 1000} s to finish (a second Ctrl-C stops at once)\n`
    )
    for (const client of websockets.clients) {
      client.close(GOING_AWAY, 'the proxy is stopping')
    }
    await drain(timeoutMs)
    // What is left after the timeout (streams, tunnels, WebSockets that did not close) is cut.
    await proxy.close()
    websockets.close()
  }
}

/**
 * Stop the proxy `started` resolves with on the first SIGINT or SIGTERM, then exit with 0 (1 if
 * that failed); exit with 1 at once on a second one, and with the same code on any later one. It
 * listens while the proxy starts: a signal sent as soon as the banner shows (a supervisor that
 * waits for it) stops the proxy gracefully, never by the signal's default action. Nothing started
 * (`--help`, an error that the caller reports) leaves the signals alone.
 */
export function stopOnSignals(
  started: Promise<(() => Promise<void>) | undefined>,
  io: Io,
  control: StopControl = {}
): void {
  const signals = control.signals ?? process
  const exit =
    control.exit ??
    ((code: number) => {
      process.exitCode = code
    })
  const now = (signal: string) => {
    io.stderr.write(`wsgiprox: ${signal} again: stopping now\n`)
    end(1)
  }
  const first = () => {
    for (const name of STOP_SIGNALS) {
      signals.off(name, first)
      signals.on(name, now)
    }
    started.then(
      (stop) => {
        stop?.().then(
          () => {
            end(0)
          },
          (error: unknown) => {
            io.stderr.write(`wsgiprox: could not stop cleanly: ${String(error)}\n`)
            end(1)
          }
        )
      },
      () => {}
    )
  }
  const off = () => {
    for (const name of STOP_SIGNALS) {
      signals.off(name, first)
      signals.off(name, now)
    }
  }
  // Once it has ended, a late signal exits with the same code. With no listener left, Node would
  // let the signal's default action kill the exiting process, and `npm start` sends one: npm
  // passes on the Ctrl-C that the terminal also sent the proxy, a moment later.
  const end = (code: number) => {
    off()
    for (const name of STOP_SIGNALS) {
      signals.on(name, () => {
        exit(code)
      })
    }
    exit(code)
  }
  for (const name of STOP_SIGNALS) {
    signals.on(name, first)
  }
  started.then(
    (stop) => {
      if (!stop) {
        off()
      }
    },
    () => {
      off()
    }
  )
}
