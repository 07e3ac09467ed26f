import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'index.ts', cli: 'cli/main.ts' },
  format: ['esm'],
  dts: { entry: { index: 'index.ts' } },
  target: 'node20',
  sourcemap: true,
  clean: true,
  external: ['webgpu'],
});
