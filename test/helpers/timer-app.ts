/**
 * The conninfo app, from a module that keeps a timer running for as long as the process lives,
 * as apps with a cache sweep or a heartbeat do: stopping must not wait for it.
 */
import { connInfoApp } from './conninfo-app'

setInterval(() => {}, 60_000)

export default connInfoApp()
