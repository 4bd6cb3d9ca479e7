import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { INCOMING_STREAM, RpcError, createCaller, initRpc, isStreamSchema, isStreamSource, stream, toAsyncIterable } from '@wirecall/core'

async function* numbers<T>(...values: T[]): AsyncGenerator<T> {
  yield* values
}

describe('stream()', () => {
  it('is a Standard Schema that passes a server incoming stream through as it is', () => {
    const schema = stream(z.number(), { window: 4 })
    expect(isStreamSchema(schema)).toBe(true)
    expect(schema.options).toEqual({ window: 4 })
    const incoming = { [INCOMING_STREAM]: true, [Symbol.asyncIterator]: () => numbers() }
    expect(schema['~standard'].validate(incoming)).toEqual({ value: incoming })
    expect(schema['~standard'].validate(5)).toMatchObject({ issues: [{ message: expect.stringMatching(/expected a stream/) }] })
  })

  it('is the whole input: combined with another .input() it is refused, either way round', () => {
    const rpc = initRpc.create()
    expect(() => rpc.procedure.input(z.object({ room: z.string() })).input(stream(z.number()))).toThrow(/cannot be combined/)
    expect(() => rpc.procedure.input(stream(z.number())).input(z.object({ room: z.string() }))).toThrow(/cannot be combined/)
  })

  it('refuses options that are not positive integers, and a chunk schema that is not one', () => {
    expect(() => stream(z.number(), { window: 0 })).toThrow(/window/)
    expect(() => stream(z.number(), { maxBytes: 1.5 })).toThrow(/maxBytes/)
    expect(() => stream({} as never)).toThrow(/Standard Schema/)
  })

  it('validates each chunk of a stream passed in process (createCaller), failing at the first bad one', async () => {
    const rpc = initRpc.create()
    const router = rpc.router({
      sum: rpc.procedure.input(stream(z.number())).mutation(async ({ input }) => {
        let total = 0
        for await (const n of input) total += n
        return total
      }),
    })
    const caller = createCaller(router, {})
    await expect(caller.sum(numbers(1, 2, 3))).resolves.toBe(6)
    // What a caller that skipped the types sends: the schema, not the compiler, stops it.
    const error = (await caller.sum(numbers<unknown>(1, 'two', 3) as AsyncGenerator<number>).catch((e: unknown) => e)) as RpcError
    expect(error).toBeInstanceOf(RpcError)
    expect(error.code).toBe('BAD_REQUEST')
    expect(error.message).toMatch(/^Invalid chunk 1/)
  })

  it('reads a ReadableStream through its reader and cancels it on return()', async () => {
    let cancelled = false
    const readable = new ReadableStream<number>({
      start(controller) {
        controller.enqueue(1)
        controller.enqueue(2)
      },
      cancel() {
        cancelled = true
      },
    })
    expect(isStreamSource(readable)).toBe(true)
    expect(isStreamSource([1, 2])).toBe(false)
    const seen: number[] = []
    for await (const n of toAsyncIterable<number>(readable)!) {
      seen.push(n)
      if (n === 2) break
    }
    expect(seen).toEqual([1, 2])
    expect(cancelled).toBe(true)
  })
})
