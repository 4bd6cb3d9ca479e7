/** The READMEs of the published packages: their npm pages, checked beside the docs. */
export const packageReadmes = ['core', 'server', 'client', 'tanstack-query', 'otel', 'codegen'].map((name) => `packages/${name}/README.md`)
