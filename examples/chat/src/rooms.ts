import { z } from 'zod'

/** The rooms of the demo: a fixed set, so room names never come from clients unchecked. */
export const ROOMS = [
  { name: 'general', title: 'Anything goes' },
  { name: 'random', title: 'Off topic' },
  { name: 'help', title: 'Questions and answers' },
] as const

/** A room's name: `'general' | 'random' | 'help'`. Anything else is `BAD_REQUEST`. */
export const RoomName = z.enum(['general', 'random', 'help'])
export type RoomName = z.infer<typeof RoomName>

/** Longest message, in characters (after trimming). */
export const MAX_TEXT_LENGTH = 500

/** A display name: 1 to 24 letters, digits, spaces, `.`, `_` or `-`, trimmed. */
export const UserName = z
  .string()
  .trim()
  .min(1)
  .max(24)
  .regex(/^[\p{L}\p{N} ._-]+$/u, 'letters, digits, spaces, ".", "_" or "-" only')

/** A message's text: 1 to 500 characters once trimmed. */
export const MessageText = z.string().trim().min(1).max(MAX_TEXT_LENGTH)

/** A chat message as clients see it. `id` is its sequence number in its room: 1, 2, 3... */
export interface ChatMessage {
  id: number
  room: RoomName
  from: string
  text: string
  at: Date
}
