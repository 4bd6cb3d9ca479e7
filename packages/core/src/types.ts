/** Small type utilities shared across the package. Not part of the public API. */

export type MaybePromise<T> = T | Promise<T>

/** Flattens an intersection into one object type so hovers stay readable. */
export type Simplify<T> = { [K in keyof T]: T[K] } & {}

/** `A` with the keys of `B` replaced by `B`'s. */
export type Overwrite<A, B> = Simplify<{ [K in keyof A as K extends keyof B ? never : K]: A[K] } & B>

/** A readable compile error: shows up as the type a wrong call expects. */
export interface TypeError<TMessage extends string> {
  readonly '~wirecallTypeError': TMessage
}
