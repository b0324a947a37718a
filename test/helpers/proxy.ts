import { serve } from '@hono/node-server'
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CertificateAuthority } from '../../src/ca/authority'
import { createProxy } from '../../src/proxy'
import type { App, Proxy, ProxyOptions } from '../../src/types'

/** A running proxy on 127.0.0.1 with an in-memory CA. */
export interface RunningProxy {
  proxy: Proxy
  /** The listening server: its `connection` event gives each client's socket. */
  server: Server
  port: number
  url: string
  caPem: string
  ca: CertificateAuthority
  errors: Error[]
  close(): Promise<void>
}

let sharedCa: Promise<CertificateAuthority> | undefined

/** One in-memory CA for the whole test file: its host certificates stay cached between tests. */
export function testCa(): Promise<CertificateAuthority> {
  return (sharedCa ??= CertificateAuthority.open({ file: null }))
}

/** Start `app` behind a proxy on 127.0.0.1:0. */
export async function startProxy(app: App, options: ProxyOptions = {}): Promise<RunningProxy> {
  const ca = options.ca ?? (await testCa())
  const errors: Error[] = []
  const proxy = createProxy(app, {
    onError: (error) => errors.push(error),
    ...options,
    ca,
  })
  const server = await proxy.listen(0, '127.0.0.1')
  const { port } = server.address() as AddressInfo
  const authority = await proxy.getCertificateAuthority()
  return {
    proxy,
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    caPem: authority.certPem,
    ca: authority,
    errors,
    close: () => proxy.close(),
  }
}

/** `proxy.fetch` alone, served by `serve()` from `@hono/node-server` on 127.0.0.1:0. */
export async function serveFetchEntry(proxy: Proxy): Promise<Server> {
  const server = serve({
    fetch: (request) => proxy.fetch(request),
    port: 0,
    hostname: '127.0.0.1',
  }) as Server
  await once(server, 'listening')
  return server
}
