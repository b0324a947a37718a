/**
 * The certificate authority the proxy intercepts TLS with: one root, loaded or created, and a
 * cache of ready `tls.SecureContext`s for the hosts clients ask for.
 * @module
 */
import * as pkijs from 'pkijs'
import type { X509Certificate } from 'node:crypto'
import { createSecureContext } from 'node:tls'
import type { SecureContext } from 'node:tls'
import { LruCache } from '../util/lru-cache'
import {
  createCaPem,
  encodePublicKey,
  subjectCommonName,
  subjectKeyIdentifier,
} from './certificate'
import type { Issuer, LeafPublicKey } from './certificate'
import { CertsDir } from './certs-dir'
import { createHostCertificate, createHostTemplate } from './host-certificate'
import type { HostTemplate } from './host-certificate'
import { certificateName, normalizeHost } from './hostname'
import type { NormalizedHost } from './hostname'
import { exportPrivateKeyPem, generateLeafKeys, toPem } from './keys'
import { resolveCaOptions } from './options'
import type { CaOptions } from './options'
import { certificateToP12 } from './pkcs12'
import { parseCaPem, readOrCreateCaFile } from './store'

export { CA_DEFAULTS } from './options'
export type { CaOptions } from './options'

/** A host certificate with its private key, both PEM. */
export interface HostCertificate {
  certPem: string
  keyPem: string
  /** The subject alternative names: the host, `*.parent` for a wildcard, or the IP address. */
  names: string[]
  notBefore: Date
  notAfter: Date
}

/** A cached certificate is issued again when it has less than a day left. */
const REISSUE_MARGIN_MS = 24 * 3_600_000

interface CachedContext {
  context: SecureContext
  notAfter: number
}

interface Leaf {
  keyPem: string
  publicKey: LeafPublicKey
}

/** The shared leaf key with the certificate parts encoded once for it. */
interface SharedLeaf extends Leaf {
  template: HostTemplate
}

const freshUntil = (notAfter: number): boolean => notAfter - Date.now() > REISSUE_MARGIN_MS
const isFresh = (entry: CachedContext): boolean => freshUntil(entry.notAfter)

/** A host context made for a handshake, as `onIssue` listeners hear of it. */
export interface IssueEvent {
  /** The name the certificate is issued under (`*.example.com` for a wildcard). */
  name: string
  /** `signed` now, or `stored` in `certsDir` by an earlier run or another worker. */
  source: 'signed' | 'stored'
  /** How long it took, signing and the TLS context included. */
  durationMs: number
}

/**
 * A root CA and the host certificates it issues for TLS interception.
 * @example
 * const ca = await CertificateAuthority.open({ file: './ca/wsgiprox-ca.pem' })
 * tls.createServer({ SNICallback: (name, cb) => ca.secureContext(name).then((c) => cb(null, c), cb) })
 */
export class CertificateAuthority {
  /** The root's common name. */
  readonly name: string
  /** The absolute path of the CA file, or null for a CA kept in memory. */
  readonly file: string | null
  /** The CA certificate alone, PEM; never the key. */
  readonly certPem: string
  /** The CA certificate, DER. */
  readonly certDer: Uint8Array
  /** SHA-256 fingerprint of the CA certificate, `AB:CD:...` as `X509Certificate.fingerprint256`. */
  readonly fingerprint256: string
  /** Start of the CA certificate's validity. */
  readonly validFrom: Date
  /** End of the CA certificate's validity; host certificates never outlive it. */
  readonly validTo: Date
  /** Whether `open` created this CA (and its file), rather than loading it. */
  readonly created: boolean
  /**
   * What is wrong with how the CA file is kept, without stopping it from working (a private key
   * that group or others may read); `createProxy` reports each to `onError`, the CLI prints them.
   */
  readonly warnings: readonly string[]
  readonly #issuer: Issuer
  // One leaf key pair for every host certificate of this CA, as mockttp and mitmproxy do: key
  // generation is the slow part of issuing, and an ECDSA P-256 key makes handshakes cheap. Sharing
  // it costs nothing in security: whoever could steal it could steal the CA key beside it.
  readonly #leaf: SharedLeaf
  readonly #contexts: LruCache<string, CachedContext>
  readonly #certsDir: CertsDir | undefined
  #p12: Promise<Uint8Array> | undefined
  #issued = 0
  readonly #issueListeners = new Set<(event: IssueEvent) => void>()

  private constructor(init: {
    file: string | null
    certPem: string
    certificate: X509Certificate
    issuer: Issuer
    leaf: SharedLeaf
    cacheSize: number
    certsDir: CertsDir | undefined
    created: boolean
    warnings: string[]
  }) {
    const root = init.issuer.certificate
    this.file = init.file
    this.certPem = init.certPem
    this.certDer = new Uint8Array(init.certificate.raw)
    this.name = subjectCommonName(root) ?? init.certificate.subject
    this.fingerprint256 = init.certificate.fingerprint256
    this.validFrom = root.notBefore.value
    this.validTo = root.notAfter.value
    this.#issuer = init.issuer
    this.#leaf = init.leaf
    this.#contexts = new LruCache(init.cacheSize)
    this.#certsDir = init.certsDir
    this.created = init.created
    this.warnings = Object.freeze([...init.warnings])
  }

  /**
   * Loads the CA from its file, creating the file (and its folder) when it does not exist yet.
   * @throws OptionsError for unusable options; CaFileError when the file exists but cannot be used.
   */
  static async open(options: CaOptions = {}): Promise<CertificateAuthority> {
    const { name, file, cacheSize, certsDir } = resolveCaOptions(options)
    const { text, created, warnings } =
      file === null
        ? { text: await createCaPem(name), created: true, warnings: [] }
        : await readOrCreateCaFile(file, () => createCaPem(name))
    const material = await parseCaPem(text, file ?? 'in memory')
    const root = pkijs.Certificate.fromBER(material.certDer)
    const issuer: Issuer = {
      certificate: root,
      keyIdentifier: subjectKeyIdentifier(root),
      signingKey: material.signingKey,
    }
    const [leaf, dir] = await Promise.all([
      createLeaf(),
      certsDir === null ? undefined : CertsDir.open(certsDir, material.certificate.publicKey),
    ])
    return new CertificateAuthority({
      file,
      certPem: material.certPem,
      certificate: material.certificate,
      issuer,
      leaf: await withTemplate(issuer, leaf),
      cacheSize,
      certsDir: dir,
      created,
      warnings: [...warnings, ...(dir?.warnings ?? [])],
    })
  }

  /** Call `listener` once for each `certsDir` file refused (see `CertsDir.load`); returns a stop. */
  onWarning(listener: (message: string) => void): () => void {
    return this.#certsDir?.onWarning(listener) ?? (() => {})
  }

  /**
   * Call `listener` for every host context made for a handshake: signed now, or loaded from
   * `certsDir`. Returns a function that stops it.
   */
  onIssue(listener: (event: IssueEvent) => void): () => void {
    this.#issueListeners.add(listener)
    return () => {
      this.#issueListeners.delete(listener)
    }
  }

  #told(name: string, source: IssueEvent['source'], start: number): void {
    for (const listener of this.#issueListeners) {
      listener({ name, source, durationMs: performance.now() - start })
    }
  }

  /** How many host certificates this instance has signed; for monitoring and tests. */
  get issued(): number {
    return this.#issued
  }

  /**
   * A ready tls.SecureContext (host certificate + shared leaf key) for host; cached LRU, concurrent
   * calls for the same uncached cert share one issuance; reissued before expiry.
   * @param options.wildcard - issue `*.parent` when allowed (see `certificateName`). @default true
   * @throws InvalidHostError for a host that is not a DNS name, IPv4 or IPv6 (bracketed or not).
   */
  async secureContext(host: string, options: { wildcard?: boolean } = {}): Promise<SecureContext> {
    const normalized = normalizeHost(host)
    const name = certificateName(normalized, options.wildcard ?? true)
    const create = () => this.#createContext(normalized, name)
    return (await this.#contexts.getOrCreate(name, create, isFresh)).context
  }

  /**
   * Issues a host certificate outside the cache (what `wsgiprox ca issue` writes).
   * @param options.wildcard - issue `*.parent` when allowed. @default true
   * @param options.freshKey - a new key pair for this certificate instead of the shared one. @default false
   * @throws InvalidHostError for an invalid host.
   */
  async issue(
    host: string,
    options: { wildcard?: boolean; freshKey?: boolean } = {}
  ): Promise<HostCertificate> {
    const normalized = normalizeHost(host)
    const name = certificateName(normalized, options.wildcard ?? true)
    const leaf = options.freshKey
      ? await withTemplate(this.#issuer, await createLeaf())
      : this.#leaf
    const cert = await this.#sign(leaf.template, normalized, name)
    const { names, notBefore, notAfter } = cert
    return {
      certPem: toPem(cert.der, 'CERTIFICATE'),
      keyPem: leaf.keyPem,
      names,
      notBefore,
      notAfter,
    }
  }

  /**
   * PKCS#12 holding the CA certificate only: empty password, HMAC-SHA-256 integrity, no key.
   * Made on first use: its MAC key derivation (2,048 rounds in pkijs) took 20-80 ms, most of what
   * opening a new CA cost, and a test that starts a proxy per test never downloads it.
   */
  async toP12(): Promise<Uint8Array> {
    this.#p12 ??= certificateToP12(this.certDer.slice())
    return (await this.#p12).slice()
  }

  #sign(template: HostTemplate, host: NormalizedHost, name: string) {
    this.#issued++
    return createHostCertificate(template, { host, name })
  }

  async #createContext(host: NormalizedHost, name: string): Promise<CachedContext> {
    const start = performance.now()
    const stored = await this.#certsDir?.load(name)
    if (stored && freshUntil(stored.notAfter)) {
      // createSecureContext refuses a key that does not match the certificate: reissue then.
      try {
        const context = this.#context(stored.keyPem, stored.certPem, stored.notAfter)
        this.#told(name, 'stored', start)
        return context
      } catch {
        // fall through to a new certificate
      }
    }
    const cert = await this.#sign(this.#leaf.template, host, name)
    const certPem = toPem(cert.der, 'CERTIFICATE')
    // A folder that cannot be written costs warm restarts only; the handshake goes on.
    await this.#certsDir?.save(name, this.#leaf.keyPem + certPem).catch(() => undefined)
    const context = this.#context(this.#leaf.keyPem, certPem, cert.notAfter.getTime())
    this.#told(name, 'signed', start)
    return context
  }

  #context(keyPem: string, certPem: string, notAfter: number): CachedContext {
    // The root follows the leaf, as servers send their issuers (RFC 8446 4.4.2): Chromium's
    // --ignore-certificate-errors-spki-list pin on the CA's key only matches a key it is sent.
    // Clients that trust the root find it in their store all the same; it costs ~400 bytes.
    return { context: createSecureContext({ key: keyPem, cert: certPem + this.certPem }), notAfter }
  }
}

async function createLeaf(): Promise<Leaf> {
  const keys = await generateLeafKeys()
  const [keyPem, publicKey] = await Promise.all([
    exportPrivateKeyPem(keys.privateKey),
    encodePublicKey(keys.publicKey),
  ])
  return { keyPem, publicKey }
}

async function withTemplate(issuer: Issuer, leaf: Leaf): Promise<SharedLeaf> {
  return { ...leaf, template: await createHostTemplate(issuer, leaf.publicKey) }
}
