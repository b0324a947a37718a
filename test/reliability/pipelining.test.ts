/**
 * A client that pipelines requests faster than they are answered (a slow resolver or app) is
 * read no further once enough wait on its connection, so memory per connection stays bounded;
 * every request is still answered, in order, once the answers catch up.
 */
import { connect } from 'node:net'
import { echoApp } from '../helpers/apps'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'
import { within } from '../helpers/within'

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

/** Far more requests than one read of the socket holds (64 KiB). */
const REQUESTS = 3000

it('stops reading a connection whose pipelined requests wait, and answers them all later', async () => {
  const held: (() => void)[] = []
  let asked = 0
  running = await startProxy(echoApp(), {
    admissionTimeoutMs: 60_000,
    resolver: {
      resolve: (url) => {
        asked += 1
        return new Promise<string>((resolve) => {
          held.push(() => {
            resolve(`/${url}`)
          })
        })
      },
    },
  })
  const socket = connect(running.port, '127.0.0.1')
  let replies = ''
  socket.setEncoding('latin1')
  socket.on('data', (chunk: string) => {
    replies += chunk
  })
  const padding = 'x'.repeat(40)
  const requests = Array.from(
    { length: REQUESTS },
    (_, i) => `GET http://example.com/${i}?${padding} HTTP/1.1\r\nHost: example.com\r\n\r\n`
  )
  socket.write(requests.join(''))
  // Nothing is answered yet: what the proxy took off the connection is all it asked about.
  await new Promise((resolve) => setTimeout(resolve, 500))
  expect(asked).toBeGreaterThan(0)
  expect(asked).toBeLessThan(REQUESTS / 2)

  const answers = setInterval(() => {
    for (const answer of held.splice(0)) {
      answer()
    }
  }, 5)
  try {
    const count = () => replies.match(/HTTP\/1\.1 200 OK/g)?.length ?? 0
    await within(
      new Promise<void>((resolve) => {
        const check = () => {
          if (count() === REQUESTS) {
            resolve()
          } else {
            setTimeout(check, 20)
          }
        }
        check()
      }),
      `only ${count()} of the ${REQUESTS} pipelined requests were answered`
    )
  } finally {
    clearInterval(answers)
    socket.destroy()
  }
  expect(asked).toBe(REQUESTS)
  // In order: the last answer is the last request's.
  expect(replies.lastIndexOf(`/${REQUESTS - 1}?`)).toBeGreaterThan(replies.lastIndexOf('/0?'))
})
