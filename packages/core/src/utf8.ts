/** UTF-8 length of a string without encoding it; a lone surrogate counts as the 3 bytes of U+FFFD it becomes. */
export function utf8Length(text: string): number {
  let bytes = text.length
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) continue
    if (c < 0x800) bytes += 1
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 2 // a surrogate pair: 4 bytes for its 2 units
      i++
    } else bytes += 2
  }
  return bytes
}
