/** This package's version, as the default tracer and meter report it (a test keeps it equal to package.json's). */
export const VERSION = '0.1.0'

/** The instrumentation scope's name: the default tracer's and meter's. */
export const SCOPE_NAME = '@wirecall/otel'
