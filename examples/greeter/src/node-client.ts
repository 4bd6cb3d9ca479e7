import { createRpcClient, RpcError } from '@wirecall/client'
import WebSocket from 'ws'
import type { AppRouter } from './router'

// Node 20 has no global WebSocket: pass the one from `ws`. (Node 22+ and browsers need nothing.)
const api = createRpcClient<AppRouter>({
  url: process.env.RPC_URL ?? 'ws://localhost:3000/rpc',
  WebSocket,
  connectionParams: { name: 'node-client' },
})

try {
  const greeting = await api.greet.query({ name: 'Ada' })
  console.log(greeting.text, 'at', greeting.at.toISOString()) // `at` is a real Date
  console.log('you are', await api.whoami.query())
  console.log('visit number', await api.visit.mutate())
  const controller = new AbortController()
  setTimeout(() => controller.abort(), 100)
  await api.slowEcho.query({ text: 'too slow', delayMs: 5_000 }, { signal: controller.signal })
} catch (error) {
  if (error instanceof RpcError) console.log(`call failed with ${error.code}: ${error.message}`)
  else throw error
} finally {
  await api.$connection.close()
}
