/**
 * The zod schemas both typed libraries (wirecall and tRPC) validate with,
 * and the pacing of `publish`: one module, so the two do exactly the same
 * work by construction. Validation is part of what a call costs.
 */
import { z } from 'zod'

/** `echo`'s input: the shape of `EchoInput` in contract.ts. */
export const echoInputSchema = z.object({
  id: z.number(),
  name: z.string(),
  active: z.boolean(),
  score: z.number(),
  tags: z.array(z.string()),
})

/** `echoText`'s input: `EchoTextInput` in contract.ts. */
export const echoTextInputSchema = z.object({ id: z.number(), text: z.string() })

export const streamInputSchema = z.object({ count: z.number().int().nonnegative() })

export const publishInputSchema = z.object({
  count: z.number().int().nonnegative(),
  burst: z.number().int().positive(),
  stamp: z.boolean().optional(),
  perSecond: z.number().positive().optional(),
})

/** Resolves on the next macrotask, so a burst of events goes out before the next one is made. */
export function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
