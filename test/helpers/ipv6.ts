/** Whether this machine can listen on ::1: containers often have no IPv6 loopback. */
import { createServer } from 'node:http'

export function canListenOnIpv6(): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const server = createServer()
    server.once('error', () => {
      resolve(false)
    })
    server.listen(0, '::1', () => {
      server.close()
      resolve(true)
    })
  })
}
