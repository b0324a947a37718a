/**
 * wsgiprox/replay: serve web archives (WARC, WARC.gz, WACZ) through the proxy, as pywb's proxy
 * mode does. Loaded only by those who import it.
 * @example
 * import { createProxy } from 'wsgiprox'
 * import { openReplay } from 'wsgiprox/replay'
 *
 * const replay = await openReplay(['site.wacz'], { onWarning: (line) => console.error(line) })
 * const proxy = createProxy(replay.app, { resolver: replay.resolver })
 * await proxy.listen(8080, '127.0.0.1')
 * @module wsgiprox/replay
 */
export { openReplay } from './open'
export type { Replay, ReplayOptions } from './open'
export { createReplayApp } from './app'
export type { ReplayApp, ReplayAppOptions } from './app'
export { openCollection, collectionName } from './collection'
export type { Collection } from './collection'
export { ReplayResolver } from './resolver'
export type { ReplayResolverOptions } from './resolver'
export { urlKeys, CACHE_BUSTING_PARAMS } from './canonical'
export type { UrlKeys } from './canonical'
export { MethodClass, RecordKind } from './capture-index'
export { bodyKey, methodBodyKey, BODY_MATCH_MAX_BYTES } from './body-key'
export type { BodyKey } from './body-key'
export type { Capture, CaptureIndex } from './capture-index'
export type { Page } from './pages'
