/**
 * PKCS#12 (RFC 7292) export of the CA certificate alone, the format Windows and macOS import by
 * double-click. It never holds a private key.
 * @module
 */
import * as pkijs from 'pkijs'
import { engine } from './keys'

/** PKCS#12 certBag (RFC 7292 4.2.3). */
const CERT_BAG = '1.2.840.113549.1.12.10.1.3'
/** OpenSSL's default MAC iteration count; the MAC only guards against corruption here. */
const MAC_ITERATIONS = 2048

/**
 * A PFX holding the DER certificate in one unencrypted SafeContents, with password integrity:
 * HMAC-SHA-256 under the empty password. Windows' import wizard and macOS' Keychain both expect
 * a MAC, and SHA-256 is what OpenSSL 3 writes and reads by default.
 */
export async function certificateToP12(certDer: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const certificate = pkijs.Certificate.fromBER(certDer)
  const safeContents = new pkijs.SafeContents({
    safeBags: [
      new pkijs.SafeBag({
        bagId: CERT_BAG,
        bagValue: new pkijs.CertBag({ parsedValue: certificate }),
      }),
    ],
  })
  const authenticatedSafe = new pkijs.AuthenticatedSafe({
    parsedValue: { safeContents: [{ privacyMode: 0, value: safeContents }] }, // not encrypted
  })
  await authenticatedSafe.makeInternalValues({ safeContents: [{}] }, engine)
  const pfx = new pkijs.PFX({
    parsedValue: { integrityMode: 0, authenticatedSafe }, // integrity by password-based MAC
  })
  await pfx.makeInternalValues(
    {
      password: new ArrayBuffer(0),
      iterations: MAC_ITERATIONS,
      pbkdf2HashAlgorithm: 'SHA-256',
      hmacHashAlgorithm: 'SHA-256',
    },
    engine
  )
  return new Uint8Array(pfx.toSchema().toBER())
}
