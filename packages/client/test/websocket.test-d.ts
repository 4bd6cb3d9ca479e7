import { describe, expectTypeOf, it } from 'vitest'
import { WebSocket as WsWebSocket } from 'ws'
import type { AnyRouter } from '@wirecall/core'
import { createRpcClient, type WebSocketConstructor } from '@wirecall/client'

describe('WebSocket implementations', () => {
  it('accepts ws and the DOM WebSocket without a cast', () => {
    expectTypeOf(WsWebSocket).toExtend<WebSocketConstructor>()
    expectTypeOf(globalThis.WebSocket).toExtend<WebSocketConstructor>()
    createRpcClient<AnyRouter>({ url: 'ws://127.0.0.1:1/rpc', WebSocket: WsWebSocket, lazy: true })
  })
})
