/**
 * Host certificates: the parts every host certificate of one issuer and leaf key shares are
 * encoded once (the template), and each host's certificate adds its serial, validity, subject
 * and SAN, then the issuer's signature.
 * @module
 */
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import type { IssuedCertificate, Issuer, LeafPublicKey } from './certificate'
import {
  commonName,
  extension,
  HOST_VALIDITY_MS,
  KEY_USAGE,
  keyUsage,
  MAX_COMMON_NAME,
  octets,
  OID,
  randomSerial,
  signatureParameters,
  subjectAltName,
  time,
  validityStart,
} from './certificate'
import type { NormalizedHost } from './hostname'
import { engine } from './keys'

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
