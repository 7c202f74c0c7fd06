import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** Base URL of the RunPod emulator started by the global setup (control routes live there). */
      EMULATOR_URL: string;
      /** The fixture cards' PNG bytes, base64, by name (seraphina, codingsensei, fluxthecat). */
      TEST_CARD_PNGS: Record<string, string>;
    }
  }
}
