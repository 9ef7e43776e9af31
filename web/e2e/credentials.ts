// The test server's first admin and its configured API token (set by the
// global setup, e2e/global-setup.ts), and the signed-in browser state that
// pages start with. The server and its data directory live for one run.
import { resolve } from 'node:path';

export const ADMIN_USER = 'admin';
export const ADMIN_PASSWORD = 'e2e-Admin-pass-4f9c2b7d';
/** FLOWLINE_API_TOKEN: an admin's bearer token (at least 16 characters). */
export const API_TOKEN = 'e2e-api-token-8d3a61f0c9b24e57';

/** The admin's session cookie, saved by the global setup (Playwright storageState). */
export const storageStatePath = resolve(import.meta.dirname, '../test-results/auth/admin.json');
