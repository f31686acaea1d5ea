// Builds the web UI into web/dist, which `deckhand serve` serves at `/` (src/http/web-ui.ts).
// The UI imports the server's closed lists from src/model/index.ts, a module with no imports,
// so the bundle takes nothing Node-only (test/e2e/ui-model.test.ts checks it).
import { fileURLToPath } from 'node:url'

import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, assetsDir: 'assets' },
  // `vite --config web/vite.config.ts` against a local `deckhand serve` on the default port.
  // The dev server may read the repository's src/ too, not only web/.
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080' },
    fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] },
  },
})
