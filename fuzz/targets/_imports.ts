/**
 * Every project module the fuzz targets reach, imported here and nowhere else, so that a file
 * that moves inside src/ changes one line of the fuzzers.
 * @module
 */
export { createGate } from '../../src/admission/gate'
export type { AskedRequest, Admission, TunnelIdentity } from '../../src/admission/decision'
export { normalizeHost, ipAddressBytes } from '../../src/ca/hostname'
export { pemBlocks } from '../../src/ca/keys'
export { parseCaPem } from '../../src/ca/store'
export { CaFileError, InvalidHostError, OptionsError } from '../../src/errors'
export { normalizeOptions } from '../../src/options'
export { pacScript } from '../../src/pages/pac'
export { parseProxyHeader, V1_MAX_LENGTH, V2_MAX_LENGTH } from '../../src/inbound/proxy-protocol'
export type { ProxiedAddresses } from '../../src/inbound/proxy-protocol'
export { FixedResolver } from '../../src/admission/resolvers'
export { parseCredentials, parseGreeting, parseRequest } from '../../src/inbound/socks5'
export { serverNameOf } from '../../src/inbound/client-hello'
export {
  addressHost,
  fullUrl,
  hasDotSegment,
  hostPort,
  originOf,
  parseAbsoluteTarget,
  parseAuthority,
  pathOf,
  unsafePathReason,
  validHost,
} from '../../src/admission/target'
export { rewriteRequest, STRIPPED_HEADERS } from '../../src/app/rewrite'
export type { RewritableRequest, Rewrite } from '../../src/app/rewrite'
export type { Resolver } from '../../src/types'
export { partAnswer, rangeOf } from '../../src/replay/range'
export { urlKeys, CACHE_BUSTING_PARAMS } from '../../src/replay/canonical'
export {
  acceptDatetime,
  captureTime,
  closest,
  httpDate,
  timestampTime,
} from '../../src/replay/memento'
export { readCdxj, readPages } from '../../src/replay/cdxj'
export { PageList } from '../../src/replay/pages'
export type { CaptureIndexBuilder, CaptureEntry } from '../../src/replay/capture-index'
export { cleanHeaders, headerFault, isSendableStatus } from '../../src/app/response-headers'
export type { HeaderBag, HeadersOwner } from '../../src/app/response-headers'
