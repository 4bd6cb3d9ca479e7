/**
 * The payload case's inputs and their check: `echoText({ id, text })` with
 * a text of exactly `size` ASCII characters (so bytes = characters on the
 * wire, before each library's envelope), tagged with its call's id so that
 * an answer to another call, or a cut or garbled text, is caught.
 */
import type { EchoTextInput } from '../../contract'

/** The id tag at the start of every text: the id in base 36, 8 characters. */
const TAG_LENGTH = 8

/** Makes the inputs of one size: the tail after the tag is built once and shared by every call. */
export class EchoTexts {
  private readonly tail: string

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < TAG_LENGTH * 2) throw new Error(`payload size ${size}: at least ${TAG_LENGTH * 2} characters`)
    // Letters in a pattern that does not repeat within 26 × 7 characters: a shifted or spliced text does not pass the sampled check.
    let tail = ''
    const chunk = Array.from({ length: 26 * 7 }, (_, i) => String.fromCharCode(97 + ((i * 7 + (i >> 3)) % 26))).join('')
    while (tail.length < size - TAG_LENGTH) tail += chunk
    this.tail = tail.slice(0, size - TAG_LENGTH)
  }

  input(id: number): EchoTextInput {
    return { id, text: tag(id) + this.tail }
  }

  /** True when `output` is exactly `input(id)`: its id, its length, its tag, a character sampled by the id, and the last one. */
  matches(output: unknown, id: number): boolean {
    const o = output as EchoTextInput | null
    if (typeof o !== 'object' || o === null || o.id !== id || typeof o.text !== 'string' || o.text.length !== this.size) return false
    if (!o.text.startsWith(tag(id))) return false
    const sampled = (id * 7_919) % this.tail.length
    return o.text.charCodeAt(TAG_LENGTH + sampled) === this.tail.charCodeAt(sampled) && o.text.charCodeAt(this.size - 1) === this.tail.charCodeAt(this.tail.length - 1)
  }
}

function tag(id: number): string {
  return id.toString(36).padStart(TAG_LENGTH, '0')
}
