import type { ConnectionState } from '@wirecall/client'
import type { z } from 'zod'
import type { Order } from '../../fixtures/router'

export * from '../common'
export { Order } from '../../fixtures/router'

export declare const order: z.input<typeof Order>
export declare const submission: { id: string }
export declare const newToken: string
export declare const auth: { freshToken(): Promise<string> }
/** A status badge in the page. */
export declare const badge: { set(state: ConnectionState): void; hint(text: string): void }
