import { SELF } from "cloudflare:test";

export const ORIGIN = "http://127.0.0.1:8787";

/** Calls the real Worker (every middleware, binding and Durable Object) like a client would. */
export function api(path: string, init: RequestInit = {}): Promise<Response> {
  return SELF.fetch(`${ORIGIN}/api/v1${path}`, init);
}

export function json(body: unknown, init: RequestInit & { token?: string } = {}): RequestInit {
  const headers = new Headers(init.headers);
  headers.set("Content-Type", "application/json");
  if (init.token) headers.set("Authorization", `Bearer ${init.token}`);
  return { method: "POST", ...init, headers, body: JSON.stringify(body) };
}

export function bearer(token: string, init: RequestInit = {}): RequestInit {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${token}`);
  return { ...init, headers };
}

export interface Guest {
  token: string;
  user: { id: string; display_name: string; created_at: string };
}

export async function newGuest(displayName?: string): Promise<Guest> {
  const res = await api("/auth/guest", json(displayName ? { display_name: displayName } : {}));
  if (res.status !== 201) throw new Error(`guest sign-in failed: ${res.status} ${await res.text()}`);
  return res.json();
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: { path: string; message: string }[];
}

/** Asserts-by-shape helper: returns the problem body after checking its media type. */
export async function problem(res: Response): Promise<Problem> {
  const type = res.headers.get("Content-Type") ?? "";
  if (!type.startsWith("application/problem+json")) {
    throw new Error(`expected problem+json, got ${type}: ${await res.text()}`);
  }
  return res.json();
}
