/**
 * Most bytes the browser bundle of `@wirecall/client` may take: esbuild,
 * minified, superjson included, gzipped at level 9; checked by
 * bundle-size.test.ts. About 10% above the 13 808 B measured when the
 * budget was set, so that growth is a decision: raise it in the same change
 * that needs it, and say why. Issue 7 targets 7 KB.
 */
export const CLIENT_BUNDLE_GZIP_BUDGET_BYTES = 15_200
