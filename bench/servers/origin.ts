import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import type { AddressInfo, Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { ReadyInfo } from './protocol'

/**
 * What the two non-proxy systems (`direct`, `node`) share: a certificate for example.com and a
 * plain and a TLS server on loopback.
 */

/** A TLS identity for `example.com` and the CA a client trusts to verify it. */
export interface DirectCertificate {
  certPem: string
  keyPem: string
  caPem: string
  source: string
}

const HOST = 'example.com'

/**
 * The certificate the non-proxy systems serve. It comes from the project's own CA when that
 * loads, so `direct` TLS pays exactly what a proxy leaf costs (RSA-2048 CA signature,
 * ECDSA P-256 leaf key); otherwise openssl makes one with the same key types.
 */
export async function createDirectCertificate(): Promise<DirectCertificate> {
  try {
    const { CertificateAuthority } = await import('../../src/ca/authority')
    const ca = await CertificateAuthority.open({ file: null })
    const { certPem, keyPem } = await ca.issue(HOST)
    return { certPem, keyPem, caPem: ca.certPem, source: 'project CA' }
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error)
    return { ...(await createWithOpenssl()), source: `openssl (project CA failed: ${reason})` }
  }
}

async function createWithOpenssl(): Promise<Omit<DirectCertificate, 'source'>> {
  const dir = await mkdtemp(join(tmpdir(), 'wsgiprox-bench-cert-'))
  // Relative file names inside `cwd` keep each command one readable line.
  const openssl = (args: string) => promisify(execFile)('openssl', args.split(' '), { cwd: dir })
  try {
    await writeFile(
      join(dir, 'leaf.ext'),
      `subjectAltName=DNS:${HOST}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`
    )
    await openssl(
      'req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj /CN=bench-direct-CA ' +
        '-keyout ca.key -out ca.pem -addext basicConstraints=critical,CA:TRUE ' +
        '-addext keyUsage=critical,keyCertSign,cRLSign'
    )
    await openssl(
      `req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=${HOST} ` +
        '-keyout leaf.key -out leaf.csr'
    )
    await openssl(
      'x509 -req -sha256 -days 30 -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial ' +
        '-extfile leaf.ext -out leaf.pem'
    )
    const read = (name: string) => readFile(join(dir, name), 'utf8')
    const [certPem, keyPem, caPem] = await Promise.all([
      read('leaf.pem'),
      read('leaf.key'),
      read('ca.pem'),
    ])
    return { certPem, keyPem, caPem }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * Makes the certificate, starts the servers `create` builds with it, and describes them;
 * `websocket` says whether they answer W5.
 */
export async function listenOrigin(
  create: (cert: DirectCertificate) => { plain: Server; secure: Server; h2?: Server },
  websocket: ReadyInfo['websocket'] = true
): Promise<ReadyInfo> {
  const cert = await createDirectCertificate()
  const { plain, secure, h2 } = create(cert)
  const servers = h2 ? [plain, secure, h2] : [plain, secure]
  for (const server of servers) {
    server.listen(0, '127.0.0.1')
  }
  await Promise.all(servers.map((server) => once(server, 'listening')))
  return {
    proxy: false,
    port: (plain.address() as AddressInfo).port,
    tlsPort: (secure.address() as AddressInfo).port,
    ...(h2 ? { h2: true, h2TlsPort: (h2.address() as AddressInfo).port } : {}),
    caPem: cert.caPem,
    websocket,
    note: `certificate from ${cert.source}`,
  }
}
