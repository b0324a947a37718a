import { spawn } from 'node:child_process'
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import type { Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tls from 'node:tls'
import { CertificateAuthority } from '../../src/ca/authority'
import { InvalidHostError, OptionsError } from '../../src/errors'
import { missing, toolPath } from '../helpers/tools'

const DAY_MS = 86_400_000

/** Whether this machine can listen on ::1 (containers often have no IPv6 loopback). */
const hasIpv6 = await (async () => {
  const server = createServer()
  try {
    server.listen(0, '::1')
    await once(server, 'listening')
    return true
  } catch {
    return false
  } finally {
    server.close()
  }
})()

let ca: CertificateAuthority
let servers: Server[] = []

beforeAll(async () => {
  ca = await CertificateAuthority.open({ file: null })
})

afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  servers = []
})

/**
 * A TLS server on address:0 presenting the context, answering 'ok' to every connection. It wraps
 * sockets in a server-side TLSSocket, as the proxy does, since clients without SNI (IP hosts)
 * never reach an SNICallback.
 */
async function serve(context: tls.SecureContext, address = '127.0.0.1'): Promise<number> {
  const server = createServer((raw) => {
    const socket = new tls.TLSSocket(raw, { isServer: true, secureContext: context })
    socket.on('error', () => socket.destroy())
    socket.on('secure', () => socket.end('ok'))
  })
  servers.push(server)
  server.listen(0, address)
  await once(server, 'listening')
  return (server.address() as { port: number }).port
}

/** Connects trusting only the CA (verification on, as always); resolves to what the server said. */
async function fetchOverTls(options: tls.ConnectionOptions): Promise<string> {
  const socket = tls.connect({ ca: ca.certPem, ...options })
  socket.setEncoding('utf8')
  let data = ''
  socket.on('data', (chunk: string) => (data += chunk))
  await once(socket, 'end')
  socket.destroy()
  return data
}

describe('CertificateAuthority TLS', () => {
  it('serves a DNS name to a client that trusts only the CA', async () => {
    const port = await serve(await ca.secureContext('example.com'))
    expect(await fetchOverTls({ host: '127.0.0.1', port, servername: 'example.com' })).toBe('ok')
  })

  it('serves a sibling name through the wildcard certificate', async () => {
    const port = await serve(await ca.secureContext('b.example.com'))
    expect(await fetchOverTls({ host: '127.0.0.1', port, servername: 'c.example.com' })).toBe('ok')
  })

  it('serves an IPv4 address without SNI', async () => {
    const port = await serve(await ca.secureContext('127.0.0.1'))
    expect(await fetchOverTls({ host: '127.0.0.1', port })).toBe('ok')
  })

  it.skipIf(!hasIpv6)('serves an IPv6 address without SNI', async () => {
    const port = await serve(await ca.secureContext('[::1]'), '::1')
    expect(await fetchOverTls({ host: '::1', port })).toBe('ok')
  })

  it('is refused for a name the certificate does not cover', async () => {
    const port = await serve(await ca.secureContext('example.com'))
    await expect(
      fetchOverTls({ host: '127.0.0.1', port, servername: 'example.org' })
    ).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' })
  })

  it.skipIf(missing('python3'))('passes Python ssl with VERIFY_X509_STRICT', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wsgiprox-py-'))
    try {
      await writeFile(join(dir, 'ca.pem'), ca.certPem)
      const port = await serve(await ca.secureContext('a.example.net'))
      const script = [
        'import socket, ssl, sys',
        'ctx = ssl.create_default_context(cafile=sys.argv[1])',
        'ctx.verify_flags |= ssl.VERIFY_X509_STRICT',
        'with socket.create_connection(("127.0.0.1", int(sys.argv[2]))) as raw:',
        '    with ctx.wrap_socket(raw, server_hostname="a.example.net") as s:',
        '        print(s.recv(2).decode())',
      ].join('\n')
      const child = spawn(toolPath('python3'), ['-c', script, join(dir, 'ca.pem'), String(port)])
      let out = ''
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
      const [code] = (await once(child, 'close')) as [number]
      expect(out.trim()).toBe('ok')
      expect(code).toBe(0)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('CertificateAuthority cache', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('issues once for concurrent first requests for one certificate', async () => {
    const fresh = await CertificateAuthority.open({ file: null })
    const hosts = ['x.example.org', 'y.example.org', 'x.example.org', 'z.example.org']
    const contexts = await Promise.all(hosts.map((h) => fresh.secureContext(h)))
    expect(fresh.issued).toBe(1)
    expect(new Set(contexts).size).toBe(1)
  })

  it('keeps at most cacheSize contexts, issuing again after eviction', async () => {
    const small = await CertificateAuthority.open({ file: null, cacheSize: 2 })
    await small.secureContext('one.test')
    await small.secureContext('two.test')
    await small.secureContext('three.test')
    expect(small.issued).toBe(3)
    await small.secureContext('three.test')
    await small.secureContext('two.test')
    expect(small.issued).toBe(3)
    await small.secureContext('one.test')
    expect(small.issued).toBe(4)
  })

  it('keys the cache by certificate name, so wildcard: false issues apart', async () => {
    const fresh = await CertificateAuthority.open({ file: null })
    await fresh.secureContext('a.example.com')
    await fresh.secureContext('a.example.com', { wildcard: false })
    await fresh.secureContext('b.example.com')
    expect(fresh.issued).toBe(2)
  })

  it('issues again when the cached certificate has less than a day left', async () => {
    const fresh = await CertificateAuthority.open({ file: null })
    const first = await fresh.secureContext('example.com')
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 197 * DAY_MS)
    expect(await fresh.secureContext('example.com')).toBe(first)
    vi.setSystemTime(Date.now() + 2 * DAY_MS)
    expect(await fresh.secureContext('example.com')).not.toBe(first)
    expect(fresh.issued).toBe(2)
  })

  it('rejects invalid hosts with InvalidHostError', async () => {
    for (const host of ['', 'a b', 'exa_mple..com', '-bad', `${'x'.repeat(64)}.com`, 'http://x']) {
      await expect(ca.secureContext(host)).rejects.toThrow(InvalidHostError)
      await expect(ca.issue(host)).rejects.toThrow(InvalidHostError)
    }
  })
})

describe('CertificateAuthority certsDir', () => {
  let dir: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wsgiprox-certs-'))
  })

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('stores issued certificates (0600) and reuses them after a restart', async () => {
    const options = { file: join(dir, 'ca.pem'), certsDir: join(dir, 'certs') }
    const first = await CertificateAuthority.open(options)
    await first.secureContext('a.example.com')
    await first.secureContext('::1')
    expect((await readdir(options.certsDir)).sort()).toEqual(['+.example.com.pem', '[--1].pem'])
    expect((await stat(join(options.certsDir, '+.example.com.pem'))).mode & 0o777).toBe(0o600)

    const second = await CertificateAuthority.open(options)
    const port = await serve(await second.secureContext('b.example.com'))
    expect(second.issued).toBe(0)
    const options2 = { host: '127.0.0.1', port, servername: 'b.example.com', ca: second.certPem }
    expect(await fetchOverTls(options2)).toBe('ok')
  })

  it('reports once and replaces a stored key that does not match its certificate', async () => {
    const certsDir = join(dir, 'certs')
    const file = join(certsDir, 'example.com.pem')
    const first = await CertificateAuthority.open({ file: join(dir, 'ca.pem'), certsDir })
    // Two certificates this CA issued for the host, each with its own key, mixed up.
    const one = await first.issue('example.com', { freshKey: true, wildcard: false })
    const two = await first.issue('example.com', { freshKey: true, wildcard: false })
    await writeFile(file, one.keyPem + two.certPem, { mode: 0o600 })
    const second = await CertificateAuthority.open({ file: join(dir, 'ca.pem'), certsDir })
    const warnings: string[] = []
    second.onWarning((message) => warnings.push(message))
    await second.secureContext('example.com')
    expect(second.issued).toBe(1)
    expect(warnings).toEqual([
      `${file} was not used: its private key does not match its certificate; a new certificate replaces it`,
    ])
    const stored = await readFile(file, 'utf8')
    const key = stored.slice(0, stored.indexOf('-----BEGIN CERTIFICATE-----'))
    const cert = new X509Certificate(stored.slice(key.length))
    expect(cert.checkPrivateKey(createPrivateKey(key))).toBe(true)
  })

  it('says a folder under a host name stays, and serves the host without storing it', async () => {
    const certsDir = join(dir, 'certs')
    const file = join(certsDir, 'example.com.pem')
    await mkdir(file, { recursive: true, mode: 0o700 })
    await chmod(certsDir, 0o700)
    const authority = await CertificateAuthority.open({ file: join(dir, 'ca.pem'), certsDir })
    const warnings: string[] = []
    authority.onWarning((message) => warnings.push(message))
    const port = await serve(await authority.secureContext('example.com'))
    const options = { host: '127.0.0.1', port, servername: 'example.com', ca: authority.certPem }
    expect(await fetchOverTls(options)).toBe('ok')
    expect(warnings).toEqual([
      `${file} was not used: it is a folder; it is left in place, and certificates for example.com are not stored until it is removed`,
    ])
    expect((await stat(file)).isDirectory()).toBe(true)
  })

  it('issues again when a stored certificate was signed by another CA', async () => {
    const certsDir = join(dir, 'certs')
    await (await CertificateAuthority.open({ file: null, certsDir })).secureContext('example.com')
    const other = await CertificateAuthority.open({ file: null, certsDir })
    const port = await serve(await other.secureContext('example.com'))
    expect(other.issued).toBe(1)
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'example.com',
      ca: other.certPem,
    })
    await once(socket, 'secureConnect')
    socket.destroy()
  })
})

describe('CertificateAuthority', () => {
  it('exposes the CA certificate alone, with its fingerprint', () => {
    expect(ca.certPem).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/)
    expect(ca.certPem).not.toContain('PRIVATE KEY')
    const x509 = new X509Certificate(ca.certPem)
    expect(Buffer.from(ca.certDer).equals(x509.raw)).toBe(true)
    expect(ca.fingerprint256).toBe(x509.fingerprint256)
    expect(ca.name).toBe('wsgiprox https proxy CA')
    expect(ca.file).toBeNull()
  })

  it('issues with the shared leaf key unless asked for a fresh one', async () => {
    const a = await ca.issue('a.example.com')
    const b = await ca.issue('b.example.org')
    const c = await ca.issue('c.example.net', { freshKey: true })
    expect(a.keyPem).toBe(b.keyPem)
    expect(c.keyPem).not.toBe(a.keyPem)
    for (const cert of [a, b, c]) {
      expect(new X509Certificate(cert.certPem).checkPrivateKey(createPrivateKey(cert.keyPem))).toBe(
        true
      )
    }
    expect(c.names).toEqual(['c.example.net', '*.example.net'])
  })

  it('takes the name option for a new CA', async () => {
    const named = await CertificateAuthority.open({ file: null, name: 'Test Rig CA' })
    expect(named.name).toBe('Test Rig CA')
    expect(new X509Certificate(named.certPem).subject).toBe('CN=Test Rig CA')
  })

  it.each([
    [{ name: '' }],
    [{ name: 'x'.repeat(65) }],
    [{ file: '' }],
    [{ cacheSize: -1 }],
    [{ cacheSize: 1.5 }],
    [{ certsDir: '' }],
  ])('refuses options %j with OptionsError', async (options) => {
    await expect(CertificateAuthority.open({ file: null, ...options })).rejects.toThrow(
      OptionsError
    )
  })
})
