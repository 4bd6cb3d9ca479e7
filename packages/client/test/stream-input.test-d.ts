import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { initRpc, stream, tracked, type inferRouterInputs } from '@wirecall/core'
import { createRpcClient, type StreamSource, type SubscribeOptions } from '@wirecall/client'

const rpc = initRpc.create()

const Point = z.object({ x: z.number(), at: z.string().transform((s) => new Date(s)) })

const router = rpc.router({
  upload: rpc.procedure.input(stream(z.string())).mutation(async ({ input }) => {
    expectTypeOf(input).toEqualTypeOf<AsyncIterable<string>>()
    let bytes = 0
    for await (const chunk of input) bytes += chunk.length
    return { bytes }
  }),
  points: rpc.procedure.input(stream(Point)).query(async ({ input }) => {
    // The chunk schema's output: the transform has run.
    expectTypeOf(input).toEqualTypeOf<AsyncIterable<{ x: number; at: Date }>>()
    let n = 0
    for await (const point of input) n += point.at.getTime()
    return n
  }),
  chat: rpc.procedure.input(stream(z.object({ text: z.string() }))).subscription(async function* ({ input }) {
    expectTypeOf(input).toEqualTypeOf<AsyncIterable<{ text: string }>>()
    for await (const message of input) yield tracked('1', { echo: message.text })
  }),
})

const api = createRpcClient<typeof router>({ url: 'ws://localhost:3000/rpc' })

describe('stream inputs', () => {
  it('are AsyncIterable<chunk output> in the resolver (asserted in the router above), and the client input is the chunk input', () => {
    expectTypeOf<inferRouterInputs<typeof router>['points']>().toEqualTypeOf<StreamSource<{ x: number; at: string }>>()
  })

  it('the client mutate accepts an AsyncIterable or a ReadableStream of the chunk input, and returns the output', () => {
    async function* chunks() {
      yield 'part'
    }
    expectTypeOf(api.upload.mutate(chunks())).resolves.toEqualTypeOf<{ bytes: number }>()
    const readable = new ReadableStream<string>()
    expectTypeOf(api.upload.mutate(readable)).resolves.toEqualTypeOf<{ bytes: number }>()
    expectTypeOf(api.upload.mutate).parameter(0).toEqualTypeOf<StreamSource<string>>()
  })

  it('refuses a plain chunk, and a stream of the wrong chunk type', () => {
    // @ts-expect-error a stream input takes a stream, not one chunk
    void api.upload.mutate('part')
    async function* numbers() {
      yield 1
    }
    // @ts-expect-error chunks of the wrong type
    void api.upload.mutate(numbers())
    // @ts-expect-error a ReadableStream of the wrong type
    void api.upload.mutate(new ReadableStream<number>())
    // @ts-expect-error the chunk input is the schema's input (a string date), not its output
    void api.points.query([] as unknown as AsyncIterable<{ x: number; at: Date }>)
  })

  it('a duplex subscription takes a stream and yields typed events; idempotent is a subscribe option', () => {
    async function* messages() {
      yield { text: 'hi' }
    }
    const sub = api.chat.subscribe(messages(), { idempotent: true, onData: (event) => expectTypeOf(event).toEqualTypeOf<{ echo: string }>() })
    expectTypeOf(sub.unsubscribe).toBeFunction()
    expectTypeOf<SubscribeOptions['idempotent']>().toEqualTypeOf<boolean | undefined>()
    // @ts-expect-error a duplex subscription takes a stream
    api.chat.subscribe({ text: 'hi' }, { onData: () => {} })
  })
})
