/**
 * Entry of the resume case's server process: `server.ts <impl> <history>`.
 * Serves the feed (wirecall-feed.ts or socketio-feed.ts) on 127.0.0.1,
 * says `ready` with its port, then publishes, counts subscribers and reads
 * its CPU as the orchestrator asks, until `close`. Publishing comes from
 * the orchestrator, not from a client, so that nothing but the resuming
 * client is connected.
 */
import { runChild, tell } from '../child-ipc'
import type { FeedServer } from './feed-server'
import type { FromResumeServer, ToResumeServer } from './messages'

const [implName, historyText] = process.argv.slice(2)
const reply = (message: FromResumeServer) => tell(message)
let server: FeedServer
/** Events published so far: the next one's seq. */
let published = 0

runChild<ToResumeServer>(
  async () => {
    const history = Number(historyText)
    if (!Number.isInteger(history) || history < 1) throw new Error(`history: ${String(historyText)}`)
    if (implName === 'wirecall') server = await (await import('./wirecall-feed')).serveWirecallFeed(history)
    else if (implName === 'socketio') server = await (await import('./socketio-feed')).serveSocketioFeed()
    else throw new Error(`the resume case has no implementation ${String(implName)}`)
    await reply({ type: 'ready', port: server.port })
  },
  async (message) => {
    switch (message.type) {
      case 'publish':
        for (let i = 0; i < message.count; i++) server.publish(published++)
        return reply({ type: 'published', total: published })
      case 'subscribers':
        return reply({ type: 'subscribers', count: server.subscribers() })
      case 'cpu': {
        const { user, system } = process.cpuUsage()
        return reply({ type: 'cpu', us: user + system })
      }
      case 'close':
        await server.close()
        // Libraries may hold timers (socket.io's recovery sweep is unref'd, wirecall's keep-alive is cleared): exit now.
        return process.exit(0)
    }
  },
)
