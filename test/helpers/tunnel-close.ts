/** Watching a proxy's log for the end of its first tunnel. */
import type { LogRecord } from '../../src/log/records'

/** An `onLog` to give a proxy, and a promise of the first `tunnel-close` record it sees. */
export function firstTunnelClose(): {
  onLog: (record: LogRecord) => void
  tunnelClosed: Promise<void>
} {
  let closed = () => {}
  const tunnelClosed = new Promise<void>((resolve) => {
    closed = resolve
  })
  const onLog = (record: LogRecord) => {
    if (record.type === 'tunnel-close') {
      closed()
    }
  }
  return { onLog, tunnelClosed }
}
