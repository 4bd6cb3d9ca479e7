/** Where a JSON text stops being JSON, and what was found there. */
export interface JsonSyntaxProblem {
  /** 0-based offset in the text (UTF-16 units, as `String.prototype` counts). */
  readonly position: number
  /** What is wrong, in a few words: `unexpected "}"`, `unterminated string`, `unexpected end`. */
  readonly problem: string
}

/** Nesting the scanner follows before it gives up locating (the caller then reports without a position). */
const MAX_DEPTH = 512

/**
 * Finds the first syntax error of `text` as RFC 8259 defines JSON, or
 * `undefined` when the text is valid. Run it after `JSON.parse` failed: on
 * Node 20, V8 names the offset for some errors ("… at position 6") and not
 * for others (`Unexpected token '}', "{"a":}" is not valid JSON`), and a
 * person fixing a shell-quoted argument needs the offset every time.
 */
export function findJsonSyntaxProblem(text: string): JsonSyntaxProblem | undefined {
  const scanner = new Scanner(text)
  try {
    scanner.document()
    return undefined
  } catch (thrown) {
    if (thrown instanceof Found) return { position: thrown.position, problem: thrown.problem }
    throw thrown
  }
}

/** Thrown inside the scanner to unwind to {@link findJsonSyntaxProblem}, which catches it: it never escapes. */
class Found extends Error {
  constructor(
    readonly position: number,
    readonly problem: string,
  ) {
    super(problem)
  }
}

/** A recursive-descent reader that accepts exactly JSON and stops at the first character that is not. */
class Scanner {
  private at = 0

  constructor(private readonly text: string) {}

  document(): void {
    this.space()
    this.value(0)
    this.space()
    if (this.at < this.text.length) this.fail('unexpected text after the value')
  }

  private value(depth: number): void {
    if (depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH}`)
    const char = this.text[this.at]
    if (char === '{') return this.object(depth)
    if (char === '[') return this.array(depth)
    if (char === '"') return this.string()
    if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) return this.number()
    for (const word of ['true', 'false', 'null']) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length
        return
      }
    }
    this.fail(char === undefined ? 'unexpected end, expected a value' : `unexpected ${describe(char)}, expected a value`)
  }

  private object(depth: number): void {
    this.at++
    this.space()
    if (this.text[this.at] === '}') {
      this.at++
      return
    }
    for (;;) {
      if (this.text[this.at] !== '"') this.fail(this.expected('a property name in double quotes'))
      this.string()
      this.space()
      if (this.text[this.at] !== ':') this.fail(this.expected('":"'))
      this.at++
      this.space()
      this.value(depth + 1)
      this.space()
      const char = this.text[this.at]
      if (char === '}') {
        this.at++
        return
      }
      if (char !== ',') this.fail(this.expected('"," or "}"'))
      this.at++
      this.space()
    }
  }

  private array(depth: number): void {
    this.at++
    this.space()
    if (this.text[this.at] === ']') {
      this.at++
      return
    }
    for (;;) {
      this.value(depth + 1)
      this.space()
      const char = this.text[this.at]
      if (char === ']') {
        this.at++
        return
      }
      if (char !== ',') this.fail(this.expected('"," or "]"'))
      this.at++
      this.space()
    }
  }

  private string(): void {
    this.at++
    for (;;) {
      const char = this.text[this.at]
      if (char === undefined) this.fail('unterminated string')
      if (char === '"') {
        this.at++
        return
      }
      if (char === '\\') {
        const escape = this.text[this.at + 1]
        if (escape === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.at + 2, this.at + 6))) this.fail('invalid \\u escape')
          this.at += 6
        } else if (escape !== undefined && '"\\/bfnrt'.includes(escape)) {
          this.at += 2
        } else {
          this.fail('invalid escape')
        }
        continue
      }
      if (char < ' ') this.fail('control character in a string (escape it)')
      this.at++
    }
  }

  private number(): void {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.text.slice(this.at))
    if (match === null) this.fail('invalid number')
    this.at += match[0].length
  }

  private space(): void {
    while (this.at < this.text.length && ' \t\n\r'.includes(this.text[this.at]!)) this.at++
  }

  private expected(what: string): string {
    const char = this.text[this.at]
    return char === undefined ? `unexpected end, expected ${what}` : `unexpected ${describe(char)}, expected ${what}`
  }

  private fail(problem: string): never {
    throw new Found(this.at, problem)
  }
}

function describe(char: string): string {
  return char === "'" ? `"'"` : `'${char}'`
}
