export * from './common'

/** The PEM text of the CA certificate the client trusts. */
export declare const ca: string
