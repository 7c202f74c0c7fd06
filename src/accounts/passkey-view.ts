import type { PasskeyRecord } from "./passkey-store";

/** A passkey as API.md shows it: `{"id", "name", "created_at", "last_used_at"}`. */
export interface PasskeyView {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

export function passkeyView(p: PasskeyRecord): PasskeyView {
  return { id: p.id, name: p.name, created_at: p.created_at, last_used_at: p.last_used_at };
}
