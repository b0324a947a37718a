/**
 * A worker that replaces dead ones listens on the port the cluster announced, or joins the
 * workers that still hold it.
 * @module
 */
import type { Server } from 'node:http'

/**
 * Start a worker that replaces others on the `announced` port. While a worker started on port 0
 * lives, `node:cluster` keeps that shared listener, bound to the announced port: asking for the
 * port by number then fails (EADDRINUSE), and asking as the others did joins them. Once every
 * worker has died, the number is what gets the port back.
 */
export async function startReplacing(
  start: (announcedPort: number | undefined) => Server | Promise<Server>,
  announced: number
): Promise<Server> {
  if (!Number.isInteger(announced) || announced <= 0) {
    return start(undefined)
  }
  try {
    return await start(announced)
  } catch (error) {
    if (!isAddressInUse(error)) {
      throw error
    }
    return start(undefined)
  }
}

/** Whether `error`, or an error it was made from (a caller's clearer message), is EADDRINUSE. */
function isAddressInUse(error: unknown): boolean {
  for (let at: unknown = error; at instanceof Error; at = at.cause) {
    if ((at as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      return true
    }
  }
  return false
}
