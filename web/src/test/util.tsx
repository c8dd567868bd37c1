// Test helpers: a fake API behind fetch, and the whole app rendered at a URL.
import { render } from "@testing-library/react";
import { MemoryRouter, useLocation } from "react-router";
import { vi } from "vitest";
import { AppShell, makeQueryClient } from "../App";
import type { CatalogEntry, Role, User } from "../api/types";

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string | undefined;
  headers: Record<string, string>;
}

export interface FakeResponse {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  text?: string;
}

export type Handler = FakeResponse | ((req: FakeRequest) => FakeResponse | Promise<FakeResponse>);

/** Routes are "METHOD /api/v1/path" (exact path, query ignored). Unknown routes answer 404. */
export function fakeApi(routes: Record<string, Handler>) {
  const calls: FakeRequest[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), "http://localhost");
    const req: FakeRequest = {
      method: (init?.method ?? "GET").toUpperCase(),
      path: url.pathname,
      query: url.searchParams,
      body: typeof init?.body === "string" ? init.body : undefined,
      headers: (init?.headers ?? {}) as Record<string, string>,
    };
    calls.push(req);
    const h = routes[`${req.method} ${req.path}`];
    const res: FakeResponse = h === undefined ? { status: 404, body: { error: "not found" } } : typeof h === "function" ? await h(req) : h;
    const status = res.status ?? 200;
    const text = res.text ?? (res.body === undefined ? "" : JSON.stringify(res.body));
    return new Response(status === 204 || status === 304 ? null : text, {
      status,
      headers: { "Content-Type": "application/json", ...(res.headers ?? {}) },
    });
  });
  vi.stubGlobal("fetch", fn);
  const find = (method: string, path: string) => calls.filter((c) => c.method === method && c.path === path);
  return { calls, fn, find };
}

export const ALL_PERMISSIONS = [
  "catalog:read",
  "catalog:write",
  "catalog:delete",
  "users:read",
  "users:write",
  "users:delete",
  "roles:read",
  "roles:write",
  "settings:read",
  "settings:write",
];

export function role(name: string, permissions: string[]): Role {
  return { id: `role-${name}`, name, permissions, is_system: true, description: `${name} role` };
}

export function user(name = "admin", permissions = ALL_PERMISSIONS): User {
  return {
    id: `user-${name}`,
    username: name,
    display_name: name === "admin" ? "Administrator" : name,
    email: null,
    role_id: `role-${name}`,
    role: role(name === "admin" ? "admin" : "viewer", permissions),
    is_active: true,
    is_locked: false,
    last_login: null,
  };
}

export const viewer = () => user("vera", ["catalog:read", "users:read", "roles:read", "settings:read"]);

function LocationProbe() {
  const loc = useLocation();
  return (
    <output data-testid="location" hidden>
      {loc.pathname + loc.search}
    </output>
  );
}

export function renderApp(path: string) {
  const client = makeQueryClient();
  client.setDefaultOptions({ queries: { retry: false, refetchInterval: false, staleTime: 0 }, mutations: { retry: false } });
  const utils = render(
    <MemoryRouter initialEntries={[path]}>
      <AppShell client={client} />
      <LocationProbe />
    </MemoryRouter>,
  );
  const location = () => utils.getByTestId("location").textContent ?? "";
  return { ...utils, client, location };
}

export function entry(n: number, extra: Partial<CatalogEntry> = {}): CatalogEntry {
  return {
    id: `e${n}`,
    display_name: `Agent ${n}`,
    description: `Description ${n}`,
    protocol: "a2a",
    endpoint: `https://agent${n}.example.com`,
    spec_version: "1.0",
    status: "active",
    source: "push",
    provider: { organization: "Acme", team: "Platform" },
    capabilities: [{ kind: "a2a.skill", name: "Translate" }, { kind: "a2a.interface", url: "https://x" }],
    health: { state: "active", lastProbedAt: null, lastSuccessAt: null, latencyMs: 12, consecutiveFailures: 0, lastError: "" },
    ...extra,
  };
}

