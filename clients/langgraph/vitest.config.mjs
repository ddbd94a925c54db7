// vitest runs only LangGraph's checkpointer validation suite
// (test/validation.vitest.mjs); the other tests use node:test.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/validation.vitest.mjs'],
    globals: true,
    testTimeout: 30000,
    hookTimeout: 30000,
  },
});
