// Builds the web UI into web/dist, which `deckhand serve` serves at `/` (src/http/web-ui.ts).
import { fileURLToPath } from 'node:url'

import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, assetsDir: 'assets' },
  // `vite --config web/vite.config.ts` against a local `deckhand serve` on the default port.
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
})
