import type { AddressInfo } from 'node:net'
import type { Proxy } from '../../src/index'
import type { ReadyInfo } from './protocol'

/**
 * Listen with one of this project's proxies on loopback, and describe it as the harness expects:
 * its port and CA; `extra` says what else it speaks (WebSockets, h2, SOCKS5).
 */
export async function listenProxy(
  proxy: Proxy,
  extra: Partial<ReadyInfo> & Pick<ReadyInfo, 'websocket'>
): Promise<ReadyInfo> {
  const server = await proxy.listen(0, '127.0.0.1')
  const ca = await proxy.getCertificateAuthority()
  return {
    proxy: true,
    port: (server.address() as AddressInfo).port,
    caPem: ca.certPem,
    ...extra,
  }
}
