/**
 * `wsgiprox ca init | issue HOST | export`: create or inspect the CA, issue a host certificate,
 * export the CA certificate for trust stores.
 * @module
 */
import { constants } from 'node:fs'
import { access, open } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { CA_DEFAULTS, CertificateAuthority } from '../ca/authority'
import { hostFileName, writeHostFile } from '../ca/certs-dir'
import { normalizeHost } from '../ca/hostname'
import { CaFileError } from '../errors'
import { makeFolder } from '../util/make-folder'
import type { Io } from './io'
import { fileError, reportError, UsageError } from './io'

const USAGE = `usage: wsgiprox ca init   [--ca-file FILE] [--ca-name NAME]
       wsgiprox ca issue  HOST [--ca-file FILE] [--wildcard | --no-wildcard] [--out DIR]
       wsgiprox ca export [--ca-file FILE] [--format pem|p12|der] [--out FILE]

  init    create the CA file if missing, then print its path and SHA-256 fingerprint
  issue   write DIR/HOST.pem: a new private key and a certificate for HOST signed by the CA
  export  write the CA certificate (never the key) to FILE, or to stdout

  --ca-file FILE     the CA file (PEM key + certificate)   default ${CA_DEFAULTS.file}
  --ca-name NAME     common name of a new CA               default '${CA_DEFAULTS.name}'
  --wildcard         issue *.parent when allowed (default); --no-wildcard: the exact host
  --out DIR|FILE     output folder (issue, default .) or file (export, default stdout)
  --format FORMAT    pem (default), p12 (Windows, macOS) or der (.cer: Android, Windows)
`

const EXPORT_FORMATS = ['pem', 'p12', 'der'] as const

/**
 * Runs `wsgiprox ca ...` with argv the words after `ca`; resolves to the exit code: 0 on success,
 * 2 for a command line that cannot be parsed, 1 for any other failure (one line on stderr).
 */
export async function runCa(argv: string[], io: Io): Promise<number> {
  try {
    const [command, ...rest] = argv
    switch (command) {
      case 'init':
        return await init(rest, io)
      case 'issue':
        return await issue(rest, io)
      case 'export':
        return await exportCa(rest, io)
      case '--help':
      case '-h':
      case 'help':
        io.stdout.write(USAGE)
        return 0
      default:
        throw new UsageError(
          argv.length === 0
            ? 'ca needs a subcommand: init, issue or export'
            : `unknown ca subcommand ${JSON.stringify(command)}; expected init, issue or export`
        )
    }
  } catch (error) {
    return reportError(error, io, 'wsgiprox ca')
  }
}

async function init(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { 'ca-file': { type: 'string' }, 'ca-name': { type: 'string' } })
  const file = resolve(values['ca-file'] ?? CA_DEFAULTS.file)
  const ca = await CertificateAuthority.open({ file, name: values['ca-name'] })
  for (const warning of ca.warnings) {
    io.stderr.write(`wsgiprox: warning: ${warning}\n`)
  }
  io.stdout.write(
    `${ca.created ? 'Created' : 'Loaded'} CA "${ca.name}"\n` +
      `CA file: ${ca.file ?? file}\n` +
      `SHA-256 fingerprint: ${ca.fingerprint256}\n` +
      `Valid until: ${ca.validTo.toISOString()}\n` +
      `While the proxy runs, http://wsgiprox/download/ serves the certificate and install steps.\n`
  )
  return 0
}

async function issue(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      'ca-file': { type: 'string' },
      wildcard: { type: 'boolean' },
      'no-wildcard': { type: 'boolean' },
      out: { type: 'string' },
    },
    true
  )
  if (positionals.length !== 1) {
    throw new UsageError(`ca issue needs exactly one HOST, got ${positionals.length}`)
  }
  if (values.wildcard && values['no-wildcard']) {
    throw new UsageError('--wildcard and --no-wildcard exclude each other')
  }
  const host = normalizeHost(positionals[0] ?? '')
  const ca = await openExisting(values['ca-file'])
  const cert = await ca.issue(host.name, { wildcard: !values['no-wildcard'], freshKey: true })
  const dir = resolve(values.out ?? '.')
  // Named for the host even when the certificate is a wildcard, so users find it by the name they typed.
  const target = join(dir, hostFileName(host.name))
  try {
    await makeFolder(dir)
    await writeHostFile(dir, host.name, cert.keyPem + cert.certPem)
  } catch (error) {
    throw fileError('write', target, error)
  }
  io.stdout.write(`${target}\n`)
  return 0
}

async function exportCa(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    'ca-file': { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
  })
  const format = values.format ?? 'pem'
  if (!isExportFormat(format)) {
    throw new UsageError(`--format must be pem, p12 or der, not ${JSON.stringify(format)}`)
  }
  const ca = await openExisting(values['ca-file'])
  const data = format === 'pem' ? ca.certPem : format === 'p12' ? await ca.toP12() : ca.certDer
  if (values.out === undefined) {
    io.stdout.write(data)
  } else {
    const file = resolve(values.out)
    await writeOut(file, data).catch((error: unknown) => {
      throw fileError('write', file, error)
    })
    io.stderr.write(`wrote the CA certificate (${format}) to ${file}\n`)
  }
  return 0
}

/**
 * Write `data` to `file` as a shell's `>` would (through a symbolic link, into a pipe or a
 * device), but never wait on a FIFO nobody reads: opened without blocking, that fails at once
 * with ENXIO instead of hanging.
 */
async function writeOut(file: string, data: string | Uint8Array): Promise<void> {
  const { O_WRONLY, O_CREAT, O_TRUNC, O_NONBLOCK } = constants
  const handle = await open(file, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK, 0o644)
  try {
    await handle.writeFile(data)
  } finally {
    await handle.close()
  }
}

/** issue and export never create a CA: a mistyped --ca-file must not yield a new, untrusted one. */
export async function openExisting(caFile: string | undefined): Promise<CertificateAuthority> {
  const file = resolve(caFile ?? CA_DEFAULTS.file)
  if (!(await exists(file))) {
    throw new CaFileError(file, 'does not exist; create it with `wsgiprox ca init`')
  }
  return CertificateAuthority.open({ file })
}

function parse<T extends Record<string, { type: 'string' | 'boolean' }>>(
  args: string[],
  options: T,
  allowPositionals = false
) {
  return parseArgs({ args, options, allowPositionals, strict: true })
}

function isExportFormat(format: string): format is (typeof EXPORT_FORMATS)[number] {
  return (EXPORT_FORMATS as readonly string[]).includes(format)
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false
  )
}
