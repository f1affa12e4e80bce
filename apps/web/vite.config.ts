import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Hashed file names under /assets (cached for a year by the gateway); index.html is the only
// unhashed file and is never cached. No inline script: the gateway's CSP forbids it.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  server: {
    // `pnpm --filter @galion/web dev` next to `npm start`: the API stays on the gateway.
    proxy: { '/api': 'http://localhost:8080' },
  },
});
