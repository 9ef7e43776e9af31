import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

// The Go binary embeds web/dist with //go:embed all:dist, which needs the
// directory to hold a file even before the first build: keep the tracked
// .gitkeep after Vite empties the directory.
function keepGitkeep(): Plugin {
  return {
    name: 'flowline-keep-gitkeep',
    apply: 'build',
    closeBundle() {
      writeFileSync(resolve(import.meta.dirname, 'dist/.gitkeep'), '');
    },
  };
}

// `npm run dev` proxies the API to a running server (FLOWLINE_API, default
// http://127.0.0.1:8080).
const api = process.env.FLOWLINE_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react(), keepGitkeep()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
  },
  server: {
    proxy: { '/api': { target: api, changeOrigin: false } },
  },
});
