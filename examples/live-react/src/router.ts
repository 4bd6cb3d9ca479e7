import { createChannel, initRpc, RpcError } from '@wirecall/core'
import { z } from 'zod'
import type { MessageStore } from './message-store'

/** A name: 1 to 24 letters, digits, spaces, `.`, `_` or `-`. */
export const Name = z.string().regex(/^[\p{L}\p{N} ._-]{1,24}$/u)

/** How long "… is typing" lasts after the last keystroke. */
export const TYPING_MS = 3_000

const rpc = initRpc.context<{ name: string }>().create()

/** The router for one server: its messages, who is online and who is typing. */
export function createAppRouter(store: MessageStore) {
  let online = 0
  const onlineChanges = createChannel<number>()
  const typing = new Map<string, ReturnType<typeof setTimeout>>()
  const typingChanges = createChannel<string[]>()
  const publishTyping = () => typingChanges.publish([...typing.keys()].sort())

  const router = rpc.router({
    messages: {
      /** Posts a message; the page sends it as an idempotent mutation, so a send re-sent after a reconnect posts once. */
      send: rpc.procedure
        .input(z.object({ text: z.string().trim().min(1).max(500) }))
        .mutation(({ input, ctx, idempotencyKey }) => store.append(ctx.name, input.text, idempotencyKey)),
      /** Every message after `lastEventId` (the newest 50 without one), then each new one: resumable across restarts. */
      feed: rpc.procedure.subscription(({ lastEventId, signal }) => store.feed(lastEventId, signal)),
    },
    /** How many pages are open: each one that subscribes counts, until it leaves. Not resumable: a new subscriber gets the count now. */
    online: rpc.procedure.subscription(async function* ({ signal }) {
      const changes = onlineChanges.subscribe({ signal })
      onlineChanges.publish(++online)
      try {
        for await (const change of changes) if ('data' in change) yield change.data
      } finally {
        onlineChanges.publish(--online)
      }
    }),
    typing: {
      /** Shows "… is typing" for {@link TYPING_MS}, or hides it. */
      set: rpc.procedure.input(z.object({ typing: z.boolean() })).mutation(({ input, ctx }) => {
        clearTimeout(typing.get(ctx.name))
        if (input.typing) {
          const timer = setTimeout(() => {
            typing.delete(ctx.name)
            publishTyping()
          }, TYPING_MS)
          timer.unref()
          typing.set(ctx.name, timer)
        } else {
          typing.delete(ctx.name)
        }
        publishTyping()
      }),
      /** Who is typing: the list now, then after every change. */
      feed: rpc.procedure.subscription(async function* ({ signal }) {
        const changes = typingChanges.subscribe({ signal })
        yield [...typing.keys()].sort()
        for await (const change of changes) if ('data' in change) yield change.data
      }),
    },
  })

  return {
    router,
    /** Clears the typing timers (the server is closing). */
    dispose: () => {
      for (const timer of typing.values()) clearTimeout(timer)
      typing.clear()
    },
  }
}

/** Checks the name a page sent in `connectionParams`; a bad one closes the connection with 4401. */
export function contextFrom(connectionParams: unknown): { name: string } {
  const name = Name.safeParse((connectionParams as { name?: unknown } | undefined)?.name)
  if (!name.success) throw new RpcError('UNAUTHORIZED', 'a name is 1 to 24 letters, digits, spaces, ".", "_" or "-"')
  return { name: name.data }
}

/** The type the page imports: `import type { AppRouter } from './router'`. */
export type AppRouter = ReturnType<typeof createAppRouter>['router']
