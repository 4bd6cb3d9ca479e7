export * from '../common'
/** The client.md recipe "Call from Node 20" imports it; the recipe after it subclasses it. */
export { default as WebSocket } from 'ws'

/** The page's auth module. */
export declare const auth: {
  currentToken(): Promise<string | undefined>
  onTokenRefreshed(listener: () => Promise<void>): void
  params(): Promise<{ token: string } | undefined>
}
export declare const cancelButton: HTMLButtonElement
export declare const draft: { title: string; body: string }
export declare const submissionId: string
export declare function render(hits: string[]): void
export declare function showLogin(): void
export declare function showToast(message: string): void
