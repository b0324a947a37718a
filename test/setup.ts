// @hono/node-server swaps in its own lightweight Request/Response globals; keep them writable so
// tests that create servers in any order see one consistent pair (node-server's own test setup).
Object.defineProperty(globalThis, 'Request', { value: globalThis.Request, writable: true })
Object.defineProperty(globalThis, 'Response', { value: globalThis.Response, writable: true })
