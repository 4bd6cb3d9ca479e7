// A client in its own process, killed with SIGKILL by the test: it
// implements `hold` (waits for its signal) with the built @wirecall/client,
// connects as `name`, prints "ready" once its connection is set up, and
// prints "held <n>" as each call starts. Usage: node holder.mjs <url> <name>
import WebSocket from 'ws'
import { clientProcedure, createRpcClient, defineClientRouter, implementClient } from '@wirecall/client'

const [url, name] = [process.argv[2], process.argv[3]]
let held = 0
const handlers = implementClient(defineClientRouter({ hold: clientProcedure }), {
  hold: (_input, { signal }) => {
    console.log(`held ${++held}`)
    return new Promise((resolve) => signal.addEventListener('abort', () => resolve('aborted'), { once: true }))
  },
})
const api = createRpcClient({ url, WebSocket, connectionParams: { name }, handlers, lazy: false })
api.$connection.on('state', (state) => {
  if (state === 'open') console.log('ready')
})
