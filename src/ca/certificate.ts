/**
 * Certificate builders on pkijs: the self-signed root and the host certificates it signs.
 * Every field is chosen for the strictest client that must accept it; the comments name the rule.
 * @module
 */
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { randomBytes } from 'node:crypto'
import { ipAddressBytes } from './hostname'
import type { NormalizedHost } from './hostname'
import { engine, exportPublicKeyDer, keyIdentifier } from './keys'
import type { SigningKey } from './keys'

const OID = {
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const

const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS
/** Starting an hour in the past lets clients whose clock lags accept a certificate at once. */
const BACKDATE_MS = HOUR_MS
/** A root lasts ten years: long enough that users trust it once. */
const ROOT_VALIDITY_YEARS = 10
/**
 * Host certificates span at most 199 days in all: public certificates are capped at 200 days
 * since March 2026 (CA/B Forum ballot SC-081v3) and clients may apply the cap to local roots too;
 * Apple's limit for them is 825 days. BR 6.3.2 counts both ends, hence the second less.
 */
const HOST_VALIDITY_MS = 199 * DAY_MS - 1000
/** RFC 5280 ub-common-name: a longer CN makes the whole certificate unparseable to some clients. */
const MAX_COMMON_NAME = 64

/** What a CA needs to sign host certificates. */
export interface Issuer {
  /** The CA certificate, parsed; its subject is copied byte for byte into each issuer field. */
  certificate: pkijs.Certificate
  /** The CA's subject key identifier, repeated as each host certificate's authority key id. */
  keyIdentifier: Uint8Array
  /** The CA private key. */
  signingKey: SigningKey
}

/** The public half of a leaf key pair, encoded once and shared by every certificate. */
export interface LeafPublicKey {
  info: pkijs.PublicKeyInfo
  keyIdentifier: Uint8Array
}

/** A certificate as DER with the facts callers need without parsing it again. */
export interface IssuedCertificate {
  der: Uint8Array
  /** The subject alternative names: DNS names or IP addresses. */
  names: string[]
  notBefore: Date
  notAfter: Date
}

/** Parameters of {@link createRootCertificate}. */
export interface RootCertificateParams {
  /** The subject and issuer common name. */
  name: string
  /** The root's own key pair (ECDSA P-256 from `generateRootKeys`, or RSA). */
  keys: CryptoKeyPair
  /** The issuance time. @default new Date() */
  now?: Date
}

/** A public key encoded once, with its key identifier, ready to share between certificates. */
export async function encodePublicKey(key: CryptoKey): Promise<LeafPublicKey> {
  const info = pkijs.PublicKeyInfo.fromBER(await exportPublicKeyDer(key))
  return { info, keyIdentifier: keyIdentifier(info.subjectPublicKey.valueBlock.valueHexView) }
}

/** A self-signed root: CA:TRUE and keyCertSign + cRLSign, both critical; SHA-256. */
export async function createRootCertificate(params: RootCertificateParams): Promise<Uint8Array> {
  const { info, keyIdentifier: ski } = await encodePublicKey(params.keys.publicKey)
  const notBefore = validityStart(params.now)
  const notAfter = new Date(notBefore)
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + ROOT_VALIDITY_YEARS)
  const certificate = baseCertificate(commonName(params.name), notBefore, notAfter)
  certificate.issuer = commonName(params.name)
  certificate.subjectPublicKeyInfo = info
  certificate.extensions = [
    // Python 3.13's default VERIFY_X509_STRICT refuses a CA whose basicConstraints is not critical.
    extension(OID.basicConstraints, true, new pkijs.BasicConstraints({ cA: true })),
    extension(OID.keyUsage, true, keyUsage(KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign)),
    extension(OID.subjectKeyIdentifier, false, octets(ski)),
  ]
  await sign(certificate, { key: params.keys.privateKey, hash: 'SHA-256' })
  return new Uint8Array(certificate.toSchema(true).toBER())
}

/**
 * Everything in a host certificate that is the same for every host an issuer signs with one leaf
 * key, encoded once: only the serial, validity, subject and SAN are encoded per host, so issuing
 * costs little more than the signature (asn1js takes ~5 us per block it encodes).
 */
export interface HostTemplate {
  readonly issuer: Issuer
  /** The CA certificate's end: host certificates never outlive it. */
  readonly rootEnd: number
  readonly signatureParams: pkijs.CryptoEngineSignWithPrivateKeyParams
  /** DER of the version, signature algorithm, issuer name and leaf public key, in TBS order. */
  readonly head: { version: Der; signatureAlgorithm: Der; issuer: Der }
  readonly publicKey: Der
  /** DER of the extensions after the SAN, which never change. */
  readonly extensions: Der
}

/** Encodes the parts host certificates of issuer for publicKey share (see {@link HostTemplate}). */
export async function createHostTemplate(
  issuer: Issuer,
  publicKey: LeafPublicKey
): Promise<HostTemplate> {
  const { signatureAlgorithm, parameters } = await signatureParameters(issuer.signingKey)
  const version = new asn1js.Constructed({
    idBlock: { tagClass: 3, tagNumber: 0 },
    value: [new asn1js.Integer({ value: 2 })], // v3
  })
  const constant = [
    // Apple requires serverAuth even under a user-trusted root (support.apple.com/HT210176).
    extension(OID.extKeyUsage, false, new pkijs.ExtKeyUsage({ keyPurposes: [OID.serverAuth] })),
    extension(OID.keyUsage, true, keyUsage(KEY_USAGE.digitalSignature)),
    extension(OID.basicConstraints, true, new pkijs.BasicConstraints({ cA: false })),
    // Python 3.13's strict verification needs the AKI, equal to the CA's SKI, to build the chain.
    extension(
      OID.authorityKeyIdentifier,
      false,
      new pkijs.AuthorityKeyIdentifier({ keyIdentifier: octets(issuer.keyIdentifier) })
    ),
    extension(OID.subjectKeyIdentifier, false, octets(publicKey.keyIdentifier)),
  ]
  return {
    issuer,
    rootEnd: issuer.certificate.notAfter.value.getTime(),
    signatureParams: parameters as pkijs.CryptoEngineSignWithPrivateKeyParams,
    head: {
      version: Der.of(version),
      signatureAlgorithm: Der.of(signatureAlgorithm.toSchema()),
      issuer: Der.of(issuer.certificate.subject.toSchema()),
    },
    publicKey: Der.of(publicKey.info.toSchema()),
    extensions: Der.concat(constant.map((e) => e.toSchema())),
  }
}

/**
 * A host certificate signed by the template's issuer: SAN, serverAuth, digitalSignature, CA:FALSE,
 * key identifiers, validity from an hour ago for at most 199 days, never past the root.
 */
export async function createHostCertificate(
  template: HostTemplate,
  params: { host: NormalizedHost; name: string; now?: Date }
): Promise<IssuedCertificate> {
  const { host, name } = params
  const names = host.kind === 'dns' && name !== host.name ? [host.name, name] : [name]
  const notBefore = validityStart(params.now)
  const notAfter = new Date(Math.min(notBefore.getTime() + HOST_VALIDITY_MS, template.rootEnd))
  // The subject holds a CN for clients that still show it, the issued name when it fits (BR
  // 7.1.4.3: one of the SAN values); the SAN is what clients match.
  const cn = [name, ...names].find((n) => n.length <= MAX_COMMON_NAME)
  const subject = cn === undefined ? new pkijs.RelativeDistinguishedNames() : commonName(cn)
  // RFC 5280 4.2.1.6: with an empty subject the SAN must be critical.
  const san = extension(OID.subjectAltName, cn === undefined, subjectAltName(host, names))
  const { head } = template
  const tbs = new asn1js.Sequence({
    value: [
      head.version,
      randomSerial(),
      head.signatureAlgorithm,
      head.issuer,
      new asn1js.Sequence({ value: [time(notBefore).toSchema(), time(notAfter).toSchema()] }),
      subject.toSchema(),
      template.publicKey,
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 3 },
        value: [new asn1js.Sequence({ value: [san.toSchema(), template.extensions] })],
      }),
    ],
  }).toBER()
  const { signingKey } = template.issuer
  const signature = await engine.signWithPrivateKey(tbs, signingKey.key, template.signatureParams)
  const certificate = new asn1js.Sequence({
    value: [
      new Der(new Uint8Array(tbs)),
      head.signatureAlgorithm,
      new asn1js.BitString({ valueHex: signature }),
    ],
  })
  return { der: new Uint8Array(certificate.toBER()), names, notBefore, notAfter }
}

/**
 * Bytes asn1js already encoded, written as they are when the structure around them is encoded:
 * the parts every host certificate shares are encoded once instead of once per host.
 */
class Der extends asn1js.BaseBlock {
  readonly #bytes: ArrayBuffer

  constructor(bytes: Uint8Array) {
    super()
    // A copy of exactly these bytes (a Buffer's own slice() would share its pool).
    this.#bytes = new Uint8Array(bytes).buffer
  }

  static of(block: asn1js.BaseBlock): Der {
    return new Der(new Uint8Array(block.toBER()))
  }

  /** Several encoded blocks one after the other, as the elements of a SEQUENCE are. */
  static concat(blocks: asn1js.BaseBlock[]): Der {
    return new Der(Buffer.concat(blocks.map((block) => new Uint8Array(block.toBER()))))
  }

  override toBER(_sizeOnly?: boolean, writer?: asn1js.ViewWriter): ArrayBuffer {
    if (writer) {
      writer.write(this.#bytes)
      return new ArrayBuffer(0)
    }
    return this.#bytes.slice(0)
  }
}

/** The CA's subject key identifier, or the RFC 5280 method 1 value OpenSSL would compute. */
export function subjectKeyIdentifier(certificate: pkijs.Certificate): Uint8Array {
  const ski = certificate.extensions?.find((e) => e.extnID === OID.subjectKeyIdentifier)
  const value: unknown = ski?.parsedValue
  if (value instanceof asn1js.OctetString) {
    return value.valueBlock.valueHexView
  }
  return keyIdentifier(certificate.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)
}

/** The first common name of a certificate subject, or undefined. */
export function subjectCommonName(certificate: pkijs.Certificate): string | undefined {
  const cn = certificate.subject.typesAndValues.find((tv) => tv.type === OID.commonName)
  const value: unknown = cn?.value.valueBlock.value
  return typeof value === 'string' ? value : undefined
}

/**
 * The signature algorithm and engine parameters for a key, with the one flaw of pkijs's fixed:
 * RFC 4055 2.1 wants NULL parameters in an RSA PKCS#1 v1.5 signature algorithm, and strict parsers
 * (Windows CryptoAPI, old Java) refuse them absent.
 */
async function signatureParameters(signingKey: SigningKey) {
  const { key, hash } = signingKey
  const result = await engine.getSignatureParameters(key, hash)
  if (key.algorithm.name === 'RSASSA-PKCS1-v1_5') {
    result.signatureAlgorithm.algorithmParams = new asn1js.Null()
  }
  return result
}

/** Certificate.sign() with the signature algorithm of {@link signatureParameters}. */
async function sign(certificate: pkijs.Certificate, signingKey: SigningKey): Promise<void> {
  const { signatureAlgorithm, parameters } = await signatureParameters(signingKey)
  certificate.signature = signatureAlgorithm
  certificate.signatureAlgorithm = signatureAlgorithm
  const tbs = new Uint8Array(certificate.encodeTBS().toBER())
  certificate.tbsView = tbs
  // The same hand-over Certificate.sign() makes; pkijs types the two shapes apart.
  const params = parameters as pkijs.CryptoEngineSignWithPrivateKeyParams
  const signature = await engine.signWithPrivateKey(tbs, signingKey.key, params)
  certificate.signatureValue = new asn1js.BitString({ valueHex: signature })
}

function baseCertificate(
  subject: pkijs.RelativeDistinguishedNames,
  notBefore: Date,
  notAfter: Date
): pkijs.Certificate {
  const certificate = new pkijs.Certificate()
  certificate.version = 2 // v3
  certificate.serialNumber = randomSerial()
  certificate.subject = subject
  certificate.notBefore = time(notBefore)
  certificate.notAfter = time(notAfter)
  return certificate
}

/** Whole seconds an hour ago: X.509 times have no fractions, so the returned dates match the DER. */
function validityStart(now = new Date()): Date {
  return new Date(Math.floor((now.getTime() - BACKDATE_MS) / 1000) * 1000)
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(date: Date): pkijs.Time {
  const type =
    date.getUTCFullYear() < 2050 ? pkijs.TimeType.UTCTime : pkijs.TimeType.GeneralizedTime
  return new pkijs.Time({ type, value: date })
}

/**
 * 128 random bits, positive and minimally encoded: BR 7.1 asks for at least 64 bits from a
 * CSPRNG, and Firefox refuses two certificates with the same issuer and serial.
 */
function randomSerial(): asn1js.Integer {
  const bytes = randomBytes(16)
  bytes[0] = (bytes.readUInt8(0) & 0x7f) | 0x40
  return new asn1js.Integer({ valueHex: new Uint8Array(bytes) })
}

function commonName(name: string): pkijs.RelativeDistinguishedNames {
  const value = new asn1js.Utf8String({ value: name })
  const cn = new pkijs.AttributeTypeAndValue({ type: OID.commonName, value })
  return new pkijs.RelativeDistinguishedNames({ typesAndValues: [cn] })
}

function subjectAltName(host: NormalizedHost, names: string[]): pkijs.AltName {
  const altNames =
    host.kind === 'dns'
      ? names.map((value) => new pkijs.GeneralName({ type: 2, value }))
      : [new pkijs.GeneralName({ type: 7, value: octets(ipAddressBytes(host)) })]
  return new pkijs.AltName({ altNames })
}

/** KeyUsage bits, numbered from the most significant bit (RFC 5280 4.2.1.3). */
const KEY_USAGE = { digitalSignature: 1 << 7, keyCertSign: 1 << 2, cRLSign: 1 << 1 } as const

/** DER named bit list: trailing zero bits are dropped and counted as unused (X.690 11.2.2). */
function keyUsage(bits: number): asn1js.BitString {
  let unused = 0
  while (unused < 7 && (bits & (1 << unused)) === 0) {
    unused++
  }
  return new asn1js.BitString({ valueHex: new Uint8Array([bits]), unusedBits: unused })
}

function octets(bytes: Uint8Array): asn1js.OctetString {
  return new asn1js.OctetString({ valueHex: bytes })
}

function extension(
  extnID: string,
  critical: boolean,
  value: asn1js.BaseBlock | { toSchema(): asn1js.BaseBlock }
): pkijs.Extension {
  const schema = value instanceof asn1js.BaseBlock ? value : value.toSchema()
  return new pkijs.Extension({ extnID, critical, extnValue: schema.toBER() })
}
