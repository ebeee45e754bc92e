import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Built into dist/web, which the Carewall server serves (src/http/consoleRoutes.ts).
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: '../dist/web', emptyOutDir: true, sourcemap: false },
  server: { proxy: { '/api': 'http://127.0.0.1:8080', '/fhir': 'http://127.0.0.1:8080' } },
});
