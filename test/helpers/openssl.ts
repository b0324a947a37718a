/**
 * The system `openssl` as a test oracle: an independent parser and verifier for what we build.
 * Tests that need it use `describe.skipIf(!hasOpenssl)`, which skips or fails as `missing` says.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { missing } from './tools'

/** Whether `openssl` is on PATH (see {@link missing}). */
export const hasOpenssl = !missing('openssl')

/** What one openssl run printed, and its exit code. */
export interface OpensslResult {
  code: number
  stdout: string
  stderr: string
  /** stdout as bytes, for DER output. */
  bytes: Buffer
}

/** Runs `openssl ...args` with optional stdin; never throws for a non-zero exit. */
export async function openssl(
  args: string[],
  options: { input?: string | Uint8Array; cwd?: string } = {}
): Promise<OpensslResult> {
  const child = spawn('openssl', args, { cwd: options.cwd, stdio: 'pipe' })
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
  child.stdin.end(options.input)
  const [code] = (await once(child, 'close')) as [number | null]
  const bytes = Buffer.concat(out)
  return {
    code: code ?? -1,
    stdout: bytes.toString('utf8'),
    stderr: Buffer.concat(err).toString(),
    bytes,
  }
}

/** Like {@link openssl}, but throws with openssl's stderr when it fails. */
export async function opensslOk(
  args: string[],
  options: { input?: string | Uint8Array; cwd?: string } = {}
): Promise<OpensslResult> {
  const result = await openssl(args, options)
  if (result.code !== 0) {
    throw new Error(`openssl ${args.join(' ')} exited ${result.code}: ${result.stderr}`)
  }
  return result
}

/** `openssl x509 -text` of a PEM certificate. */
export async function x509Text(certPem: string): Promise<string> {
  return (await opensslOk(['x509', '-noout', '-text'], { input: certPem })).stdout
}

/** The SHA-256 fingerprint openssl prints for a PEM certificate, `AB:CD:...`. */
export async function opensslFingerprint256(certPem: string): Promise<string> {
  const { stdout } = await opensslOk(['x509', '-noout', '-fingerprint', '-sha256'], {
    input: certPem,
  })
  return stdout.trim().replace(/^.*Fingerprint=/i, '')
}

/**
 * A self-signed CA made the way Python's certauth files look: `openssl req -x509 -newkey rsa:2048
 * -nodes` (PKCS#8 key), or its key rewritten as PKCS#1 `RSA PRIVATE KEY` with `-traditional`.
 */
export async function opensslCa(
  dir: string,
  options: { traditional?: boolean; name?: string; key?: 'rsa' | 'ec' } = {}
): Promise<{ keyPem: string; certPem: string }> {
  const keySpec =
    options.key === 'ec'
      ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']
      : ['-newkey', 'rsa:2048']
  const req = 'req -x509 -nodes -keyout key.pem -out cert.pem -days 30'.split(' ')
  const subject = ['-subj', `/CN=${options.name ?? 'certauth test CA'}`]
  // certauth's roots carry keyUsage keyCertSign + cRLSign; openssl req's default ones do not.
  const keyUsage = ['-addext', 'keyUsage=critical,keyCertSign,cRLSign']
  await opensslOk([...req, ...keySpec, ...subject, ...keyUsage], { cwd: dir })
  if (options.traditional) {
    await opensslOk(['rsa', '-in', 'key.pem', '-traditional', '-out', 'key.pem'], { cwd: dir })
  }
  const [keyPem, certPem] = await Promise.all([
    readFile(join(dir, 'key.pem'), 'utf8'),
    readFile(join(dir, 'cert.pem'), 'utf8'),
  ])
  return { keyPem, certPem }
}

/**
 * `openssl s_client` through the proxy on `proxyPort`: CONNECT to `connect`, TLS naming
 * `servername` and verified against `caFile` under that name, then `request` on stdin (s_client
 * exits when the server answers and stdin ends).
 */
export function sClientThroughProxy(options: {
  proxyPort: number
  connect: string
  servername: string
  caFile: string
  request: string
}): Promise<OpensslResult> {
  const { proxyPort, connect, servername, caFile, request } = options
  return openssl(
    [
      's_client',
      '-proxy',
      `127.0.0.1:${proxyPort}`,
      '-connect',
      connect,
      '-servername',
      servername,
      '-CAfile',
      caFile,
      '-verify_hostname',
      servername,
      '-verify_return_error',
      '-brief',
      '-ign_eof',
    ],
    { input: request }
  )
}
