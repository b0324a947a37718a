/**
 * Keys and PEM: key pair generation on WebCrypto, PEM key import (PKCS#1, SEC1, PKCS#8), PEM
 * encoding and splitting, key identifiers.
 * @module
 */
import { CryptoEngine } from 'pkijs'
import { createHash, createPrivateKey, webcrypto } from 'node:crypto'
import type { KeyObject } from 'node:crypto'

/** The one pkijs engine, over Node's WebCrypto; passed explicitly so no global is touched. */
export const engine = new CryptoEngine({ name: 'node', crypto: webcrypto as Crypto })

const subtle = webcrypto.subtle

/**
 * ECDSA P-256 with SHA-256 for new roots (CA/B Forum BR 6.1.5 and 7.1.3.2; every trust store,
 * Apple's and Windows' included). It is made in about 0.1 ms where an RSA-2048 key takes 80-340 ms
 * (bench/README.md), which is what a test suite starting a proxy per test pays; and since the root
 * now travels in every handshake's chain, its smaller certificate costs less on the wire. RSA roots
 * made earlier, and the Python certauth files, still load: see `importSigningKey`.
 */
const ROOT_KEY_ALGORITHM: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' }

/** ECDSA P-256: generated in about a millisecond and the cheapest key for a TLS handshake. */
const LEAF_KEY_ALGORITHM: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' }

/** Node's curve names for the curves WebCrypto can sign with, and the hash BR 7.1.3.2 pairs them with. */
const EC_CURVES: Record<string, { namedCurve: string; hash: string } | undefined> = {
  prime256v1: { namedCurve: 'P-256', hash: 'SHA-256' },
  secp384r1: { namedCurve: 'P-384', hash: 'SHA-384' },
  secp521r1: { namedCurve: 'P-521', hash: 'SHA-512' },
}

/** A private key usable for signing, with the hash its signatures use. */
export interface SigningKey {
  key: CryptoKey
  hash: string
}

/** A new ECDSA P-256 key pair for a root certificate. */
export function generateRootKeys(): Promise<CryptoKeyPair> {
  return subtle.generateKey(ROOT_KEY_ALGORITHM, true, ['sign', 'verify'])
}

/** A new ECDSA P-256 key pair for host certificates. */
export function generateLeafKeys(): Promise<CryptoKeyPair> {
  return subtle.generateKey(LEAF_KEY_ALGORITHM, true, ['sign', 'verify'])
}

/**
 * Imports a PEM private key of any form OpenSSL writes (PKCS#1 `RSA PRIVATE KEY` as Python
 * certauth writes it, SEC1 `EC PRIVATE KEY`, PKCS#8 `PRIVATE KEY`) for signing. Node parses all
 * three; WebCrypto takes PKCS#8 only, so the key goes through `createPrivateKey` first.
 * @throws Error with a short reason when the key cannot be used.
 */
export async function importSigningKey(pem: string): Promise<SigningKey & { object: KeyObject }> {
  const object = createPrivateKey(pem)
  const pkcs8 = object.export({ type: 'pkcs8', format: 'der' })
  if (object.asymmetricKeyType === 'rsa') {
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
    const key = await subtle.importKey('pkcs8', pkcs8, algorithm, true, ['sign'])
    return { key, hash: 'SHA-256', object }
  }
  const curve = EC_CURVES[object.asymmetricKeyDetails?.namedCurve ?? '']
  if (object.asymmetricKeyType === 'ec' && curve) {
    const algorithm = { name: 'ECDSA', namedCurve: curve.namedCurve }
    const key = await subtle.importKey('pkcs8', pkcs8, algorithm, true, ['sign'])
    return { key, hash: curve.hash, object }
  }
  const type = object.asymmetricKeyType ?? 'unknown'
  throw new Error(`${type} keys are not supported; use an RSA or ECDSA (P-256/384/521) key`)
}

/** The private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  return toPem(new Uint8Array(await subtle.exportKey('pkcs8', key)), 'PRIVATE KEY')
}

/** The public key as SubjectPublicKeyInfo DER. */
export async function exportPublicKeyDer(key: CryptoKey): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await subtle.exportKey('spki', key))
}

/** PEM text for DER bytes, 64 characters a line (RFC 7468). */
export function toPem(der: Uint8Array, label: string): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64')
  const lines = base64.match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

/** One `-----BEGIN X-----` block of a PEM file, as text and as DER. */
export interface PemBlock {
  label: string
  text: string
  der: Uint8Array<ArrayBuffer>
}

/** Every PEM block in text, in order; text between blocks (OpenSSL's "Bag Attributes") is skipped. */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = []
  for (const match of text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g)) {
    const [block, label, body] = match as unknown as [string, string, string]
    blocks.push({ label, text: `${block}\n`, der: new Uint8Array(Buffer.from(body, 'base64')) })
  }
  return blocks
}

/** RFC 5280 4.2.1.2 method 1: the SHA-1 of the subjectPublicKey bits, as OpenSSL computes it. */
export function keyIdentifier(subjectPublicKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha1').update(subjectPublicKey).digest())
}
