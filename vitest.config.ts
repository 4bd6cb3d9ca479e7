import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url))

export default defineConfig({
  resolve: {
    // Tests run against the sources; the build smoke test checks dist/ separately.
    alias: {
      '@wirecall/core': src('core'),
      '@wirecall/server': src('server'),
      '@wirecall/client': src('client'),
      // The subpath first: an alias also matches the imports that begin with it.
      '@wirecall/tanstack-query/react': fileURLToPath(new URL('./packages/tanstack-query/src/react.ts', import.meta.url)),
      '@wirecall/tanstack-query': src('tanstack-query'),
      '@wirecall/otel': src('otel'),
      '@wirecall/redis': src('redis'),
      '@wirecall/codegen': src('codegen'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.{ts,tsx}', 'tests/**/*.test.{ts,tsx}', 'examples/*/test/**/*.test.{ts,tsx}'],
    testTimeout: 20_000,
    // Records the frames of tests/integration/** and checks them against the AsyncAPI document after the run (tests/codegen/asyncapi/recording/).
    globalSetup: ['tests/codegen/asyncapi/recording/frames-global-setup.ts'],
    setupFiles: ['tests/codegen/asyncapi/recording/record-frames.setup.ts'],
    hookTimeout: 20_000,
    typecheck: {
      enabled: true,
      include: ['packages/*/test/**/*.test-d.ts', 'tests/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
  },
})
