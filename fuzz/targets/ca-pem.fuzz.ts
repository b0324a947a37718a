/**
 * CA file loading (parseCaPem and the PEM splitting under it): a file is either a usable CA whose
 * key and certificate belong together, or a CaFileError that names it; nothing else.
 */
import { X509Certificate } from 'node:crypto'
import { check } from './_check'
import { CaFileError, parseCaPem, pemBlocks } from './_imports'

const SOURCE = 'fuzz.pem'

export async function fuzz(data: Buffer): Promise<void> {
  const text = data.toString('utf8')
  for (const block of pemBlocks(text)) {
    check(
      text.includes(block.text.slice(0, -1)) &&
        block.text.startsWith(`-----BEGIN ${block.label}-----`),
      'a PEM block is a piece of the file',
      {
        text,
        block,
      }
    )
  }
  let material: Awaited<ReturnType<typeof parseCaPem>>
  try {
    material = await parseCaPem(text, SOURCE)
  } catch (error) {
    check(
      error instanceof CaFileError && error.file === SOURCE && !error.message.includes('\n'),
      'a bad CA file is a one-line CaFileError naming it',
      {
        text,
        error,
      }
    )
    return
  }
  const { certificate, certDer, certPem } = material
  check(certificate.ca, 'a CA certificate', { text })
  check(Buffer.from(certDer).equals(certificate.raw), 'the DER is the certificate', { text })
  check(
    new X509Certificate(certPem).fingerprint256 === certificate.fingerprint256,
    'the PEM is the certificate',
    {
      text,
    }
  )
  // The certificate of a block of the file, as OpenSSL reads it: bytes after it are left
  // behind, and a non-DER encoding (padding bits in the signature) comes out as DER.
  check(
    pemBlocks(text).some((block) => {
      if (block.label !== 'CERTIFICATE') {
        return false
      }
      try {
        return new X509Certificate(block.der).fingerprint256 === certificate.fingerprint256
      } catch {
        return false
      }
    }),
    'the certificate comes from the file',
    { text }
  )
}
