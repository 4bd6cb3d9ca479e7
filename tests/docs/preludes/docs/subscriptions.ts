import type { Channel } from '@wirecall/server'

export * from '../common'
export { default as WebSocket } from 'ws'
export { isVolatile } from '@wirecall/core'
export { setTimeout as sleep } from 'node:timers/promises'

/** "Use the signal in your awaits": the generator's input, and a queue that takes no signal. */
export declare const input: { everyMs: number }
export declare const queue: { take(): Promise<{ id: string }> }

/** "Channels": the prices channel, an id it returned, and a signal to stop reading. */
export declare const prices: Channel<{ symbol: string; price: number }>
export declare const id: string
export declare const signal: AbortSignal
export declare const savedId: string | undefined

/** The page's UI, which the samples update. */
export declare function setStatus(status: string): void
export declare function addMessage(message: { text: string; at: Date }): void
export declare function reloadMessages(): Promise<void>
export declare function reloadPrices(): void
export declare function showHeadline(title: string): void
export declare function reloadHeadlines(): void
export declare function show(text: string): void
export declare function renderPresence(users: string[]): void
export declare function render(view: { version: number; scores: Record<string, number> }): void
export declare function showError(error: unknown): void
