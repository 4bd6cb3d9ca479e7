import type { RpcError } from '@wirecall/server'

export * from '../common'

/** A failed call, caught. */
export declare const error: RpcError
export declare const draft: { title: string; body: string }
export declare const order: { id: string; totalCents: number }
export declare const payments: { charge(order: { id: string; totalCents: number }): Promise<void> }
/** A pino-style logger. */
export declare const logger: { error(fields: object, message: string): void }
export declare const form: { setError(field: string, message: string): void }
export declare function showLogin(): void
export declare function toast(message: string): void
