/**
 * Entry of the resume case's client process: `client.ts <impl> <port>`.
 * Subscribes to the feed, then waits for events, drops its connection and
 * resumes as the orchestrator says. Every event is checked (event-checker.ts)
 * from the first live one to the last replayed one.
 */
import { hrtime } from 'node:process'
import { within } from '../../cases/verify'
import { runChild, tell } from '../child-ipc'
import { EventChecker } from './event-checker'
import type { FromResumeClient, ToResumeClient } from './messages'
import type { Resumer } from './resumer'

/** Longest wait for events, a drop or a resume: 100,000 replayed events take a second or two. */
const WAIT_MS = 120_000

const [implName, portText] = process.argv.slice(2)
const reply = (message: FromResumeClient) => tell(message)
const checker = new EventChecker(`resume/${implName}`)
let resumer: Resumer

runChild<ToResumeClient>(
  async () => {
    if (implName === 'wirecall') resumer = (await import('./wirecall-resumer')).wirecallResumer()
    else if (implName === 'socketio') resumer = (await import('./socketio-resumer')).socketioResumer()
    else throw new Error(`the resume case has no implementation ${String(implName)}`)
    await within(resumer.start(Number(portText), checker.onEvent), WAIT_MS, `resume/${implName}: subscribe`)
    await reply({ type: 'ready' })
  },
  async (message) => {
    switch (message.type) {
      case 'expect':
        await checker.until(message.total, WAIT_MS)
        return reply({ type: 'received', total: checker.received })
      case 'drop':
        await within(resumer.drop(), WAIT_MS, `resume/${implName}: drop`)
        return reply({ type: 'dropped' })
      case 'resume': {
        const started = hrtime.bigint()
        const resumed = resumer.resume()
        const lastAt = await checker.until(message.total, WAIT_MS)
        // socket.io says `recovered` once the missed packets are delivered; wirecall's onStarted comes before them.
        await within(resumed, WAIT_MS, `resume/${implName}: resumed`)
        return reply({ type: 'resumed', elapsedNs: Number(lastAt - started) })
      }
      case 'close':
        await resumer.close()
        return reply({ type: 'closed' })
      case 'exit':
        return process.exit(0)
    }
  },
)
