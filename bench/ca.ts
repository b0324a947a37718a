/**
 * Certificate authority costs, against the one that decides whether interception feels instant:
 * a new host's first handshake waits for its certificate. Measures, in one run on one machine,
 * a SecureContext for a new host (sign + context) and its two parts apart (the certificate alone,
 * and `tls.createSecureContext` with the shared key and a ready certificate), one from the cache,
 * an RSA-2048 key pair generation (what a proxy that makes a key per host, like the Python
 * original, pays each time, and what a new RSA root cost), an ECDSA P-256 one (what a new root
 * costs now) and a whole new in-memory CA.
 *
 * Run: `node --import tsx bench/ca.ts [--quick]`; writes bench/results/ca.json.
 */
import { generateKeyPair } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { createSecureContext } from 'node:tls'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { CertificateAuthority } from '../src/ca/authority'

/** Options of {@link runCaBench}. */
export interface CaBenchOptions {
  /** Fewer samples, for CI and smoke runs. @default false */
  quick?: boolean
  /** Write bench/results/ca.json. @default true */
  write?: boolean
  /** Print the table. @default true */
  print?: boolean
}

/** One measured operation, in milliseconds. */
export interface CaBenchRow {
  name: string
  samples: number
  medianMs: number
  p99Ms: number
  /** medianMs divided by the RSA-2048 key generation median. */
  ratioToRsaKeygen: number
}

/** What runCaBench measured, as written to bench/results/ca.json. */
export interface CaBenchResult {
  bench: 'ca'
  date: string
  node: string
  cpu: string
  quick: boolean
  rows: CaBenchRow[]
}

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results', 'ca.json')
const generateKeys = promisify(generateKeyPair)

/** Runs the CA benchmark and returns (and by default prints and writes) its figures. */
export async function runCaBench(options: CaBenchOptions = {}): Promise<CaBenchResult> {
  const { quick = false, write = true, print = true } = options
  const hosts = quick ? 50 : 500
  const cached = quick ? 2_000 : 20_000
  const keygens = quick ? 5 : 30
  const ca = await CertificateAuthority.open({ file: null, cacheSize: hosts + 100 })

  // Warm up the JIT and the crypto paths outside the measured samples.
  await measure(10, (i) => ca.secureContext(`warmup-${i}.test`))

  const newHost = await measure(hosts, (i) => ca.secureContext(`host-${i}.test`))
  const fromCache = await measure(cached, (i) => ca.secureContext(`host-${i % hosts}.test`))
  const issued: Awaited<ReturnType<typeof ca.issue>>[] = []
  const certificate = await measure(hosts, async (i) => {
    issued.push(await ca.issue(`cert-${i}.test`))
  })
  const context = await measure(issued.length, (i) => {
    const cert = issued[i]
    return Promise.resolve(cert && createSecureContext({ key: cert.keyPem, cert: cert.certPem }))
  })
  const rsa = await measure(keygens, () => generateKeys('rsa', { modulusLength: 2048 }))
  const ec = await measure(keygens, () => generateKeys('ec', { namedCurve: 'P-256' }))
  const newCa = await measure(keygens, () => CertificateAuthority.open({ file: null }))

  const base = percentile(rsa, 0.5)
  const row = (name: string, samples: number[]): CaBenchRow => ({
    name,
    samples: samples.length,
    medianMs: round(percentile(samples, 0.5)),
    p99Ms: round(percentile(samples, 0.99)),
    ratioToRsaKeygen: round(percentile(samples, 0.5) / base),
  })
  const result: CaBenchResult = {
    bench: 'ca',
    date: new Date().toISOString(),
    node: process.version,
    cpu: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
    quick,
    rows: [
      row('secureContext, new host (issue + context)', newHost),
      row('  of which: host certificate (ca.issue)', certificate),
      row('  of which: tls.createSecureContext', context),
      row('secureContext, cached', fromCache),
      row('RSA-2048 key pair generation', rsa),
      row('ECDSA P-256 key pair generation', ec),
      row('new CA in memory (ECDSA P-256 root)', newCa),
    ],
  }
  if (print) {
    process.stdout.write(table(result))
  }
  if (write) {
    await mkdir(dirname(RESULTS), { recursive: true })
    await writeFile(RESULTS, `${JSON.stringify(result, null, 2)}\n`)
  }
  return result
}

/** Runs fn n times in sequence; the duration of each call in milliseconds. */
async function measure(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < n; i++) {
    const start = performance.now()
    await fn(i)
    samples.push(performance.now() - start)
  }
  return samples
}

/** The value below which a share `p` of the samples fall (nearest rank). */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN
}

/** Four significant digits: enough for microseconds and for hundreds of milliseconds. */
export function round(value: number): number {
  return Number(value.toPrecision(4))
}

function table(result: CaBenchResult): string {
  const header = ['operation', 'samples', 'median ms', 'p99 ms', 'x RSA-2048 keygen']
  const rows = result.rows.map((r) => [
    r.name,
    String(r.samples),
    r.medianMs.toPrecision(3),
    r.p99Ms.toPrecision(3),
    r.ratioToRsaKeygen.toPrecision(3),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
  return [
    `CA bench (${result.node}, ${result.cpu}${result.quick ? ', quick' : ''})`,
    line(header),
    ...rows.map(line),
    '',
  ].join('\n')
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runCaBench({ quick: process.argv.includes('--quick') })
}
