/**
 * Certificate builders on pkijs: the self-signed root, and the extensions, names and times host
 * certificates (host-certificate.ts) share with it. Every field is chosen for the strictest client that must accept it; the comments name the rule.
 * @module
 */
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { randomBytes } from 'node:crypto'
import { ipAddressBytes } from './hostname'
import type { NormalizedHost } from './hostname'
import {
  engine,
  exportPrivateKeyPem,
  exportPublicKeyDer,
  generateRootKeys,
  keyIdentifier,
  toPem,
} from './keys'
import type { SigningKey } from './keys'

export const OID = {
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
export const HOST_VALIDITY_MS = 199 * DAY_MS - 1000
/** RFC 5280 ub-common-name: a longer CN makes the whole certificate unparseable to some clients. */
export const MAX_COMMON_NAME = 64

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
export async function signatureParameters(signingKey: SigningKey) {
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
export function validityStart(now = new Date()): Date {
  return new Date(Math.floor((now.getTime() - BACKDATE_MS) / 1000) * 1000)
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
export function time(date: Date): pkijs.Time {
  const type =
    date.getUTCFullYear() < 2050 ? pkijs.TimeType.UTCTime : pkijs.TimeType.GeneralizedTime
  return new pkijs.Time({ type, value: date })
}

/**
 * 128 random bits, positive and minimally encoded: BR 7.1 asks for at least 64 bits from a
 * CSPRNG, and Firefox refuses two certificates with the same issuer and serial.
 */
export function randomSerial(): asn1js.Integer {
  const bytes = randomBytes(16)
  bytes[0] = (bytes.readUInt8(0) & 0x7f) | 0x40
  return new asn1js.Integer({ valueHex: new Uint8Array(bytes) })
}

export function commonName(name: string): pkijs.RelativeDistinguishedNames {
  const value = new asn1js.Utf8String({ value: name })
  const cn = new pkijs.AttributeTypeAndValue({ type: OID.commonName, value })
  return new pkijs.RelativeDistinguishedNames({ typesAndValues: [cn] })
}

export function subjectAltName(host: NormalizedHost, names: string[]): pkijs.AltName {
  const altNames =
    host.kind === 'dns'
      ? names.map((value) => new pkijs.GeneralName({ type: 2, value }))
      : [new pkijs.GeneralName({ type: 7, value: octets(ipAddressBytes(host)) })]
  return new pkijs.AltName({ altNames })
}

/** KeyUsage bits, numbered from the most significant bit (RFC 5280 4.2.1.3). */
export const KEY_USAGE = { digitalSignature: 1 << 7, keyCertSign: 1 << 2, cRLSign: 1 << 1 } as const

/** DER named bit list: trailing zero bits are dropped and counted as unused (X.690 11.2.2). */
export function keyUsage(bits: number): asn1js.BitString {
  let unused = 0
  while (unused < 7 && (bits & (1 << unused)) === 0) {
    unused++
  }
  return new asn1js.BitString({ valueHex: new Uint8Array([bits]), unusedBits: unused })
}

export function octets(bytes: Uint8Array): asn1js.OctetString {
  return new asn1js.OctetString({ valueHex: bytes })
}

export function extension(
  extnID: string,
  critical: boolean,
  value: asn1js.BaseBlock | { toSchema(): asn1js.BaseBlock }
): pkijs.Extension {
  const schema = value instanceof asn1js.BaseBlock ? value : value.toSchema()
  return new pkijs.Extension({ extnID, critical, extnValue: schema.toBER() })
}

/** A new CA as the CA file holds it: a new root key in PEM, then its certificate in PEM. */
export async function createCaPem(name: string): Promise<string> {
  const keys = await generateRootKeys()
  const der = await createRootCertificate({ name, keys })
  return (await exportPrivateKeyPem(keys.privateKey)) + toPem(der, 'CERTIFICATE')
}
