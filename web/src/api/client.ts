// The HTTP client: JSON in and out, the bearer token, the server's error text, and a single
// place that reacts to 401 (the session is gone: back to the login page).
import type { FieldProblem } from "./types";

const TOKEN_KEY = "agentlens.token";

export class ApiError extends Error {
  readonly status: number;
  readonly details: FieldProblem[];
  readonly body: unknown;

  constructor(status: number, message: string, details: FieldProblem[] = [], body: unknown = undefined) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.details = details;
    this.body = body;
  }
}

/** The text to show for any failure: the server's message when it sent one. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

// The token lives for the tab (sessionStorage) next to the HttpOnly cookie the server sets:
// requests send both, so a reload keeps the session whether or not the cookie is usable.
let token: string | null = readToken();

function readToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(t: string | null): void {
  token = t;
  try {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage unavailable: memory only */
  }
}

export function getToken(): string | null {
  return token;
}

/** The `iat` and `exp` claims of a JWT (seconds), without checking it (the server does). */
export function tokenTimes(t: string): { iat: number; exp: number } | null {
  const part = t.split(".")[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    const claims = JSON.parse(json) as { iat?: unknown; exp?: unknown };
    return typeof claims.iat === "number" && typeof claims.exp === "number" ? { iat: claims.iat, exp: claims.exp } : null;
  } catch {
    return null;
  }
}

type UnauthorizedListener = (err: ApiError) => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();

/** Called on every 401 answer (except the login call itself). Returns an unsubscribe function. */
export function onUnauthorized(fn: UnauthorizedListener): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Send this string as the body as is (a pasted card), with this content type. */
  rawBody?: string;
  contentType?: string;
  query?: Record<string, string | number | undefined | null>;
  signal?: AbortSignal;
  /** Do not treat a 401 as "session ended" (the login form). */
  noAuthRedirect?: boolean;
  /** Answer the body as text instead of parsing JSON. */
  text?: boolean;
  /** Statuses whose JSON body is returned instead of thrown (422 ValidationResult). */
  acceptStatus?: number[];
}

export interface ApiResponse<T> {
  status: number;
  data: T;
  headers: Headers;
}

export function buildUrl(path: string, query?: RequestOptions["query"]): string {
  const url = path.startsWith("/api/") ? path : `/api/v1${path}`;
  if (!query) return url;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${url}?${qs}` : url;
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { Accept: "application/json" };
  let body: BodyInit | undefined;
  if (opts.rawBody !== undefined) {
    body = opts.rawBody;
    headers["Content-Type"] = opts.contentType ?? "application/json";
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["Content-Type"] = "application/json";
  }
  if (token) headers.Authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method: opts.method ?? "GET",
      headers,
      body,
      credentials: "same-origin",
      signal: opts.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, `cannot reach the server: ${e instanceof Error ? e.message : String(e)}`);
  }
  const text = await res.text();
  if (res.ok || opts.acceptStatus?.includes(res.status)) {
    const data = (opts.text ? text : parseJson(text)) as T;
    return { status: res.status, data, headers: res.headers };
  }
  const parsed = parseJson(text) as { error?: unknown; details?: unknown; errors?: unknown } | undefined;
  const firstProblem = Array.isArray(parsed?.errors) ? (parsed.errors[0] as FieldProblem | undefined) : undefined;
  const message =
    parsed && typeof parsed.error === "string" && parsed.error
      ? parsed.error
      : firstProblem?.message
        ? `invalid card: ${firstProblem.message}`
        : `${res.status} ${res.statusText || "request failed"}`.trim();
  const details = Array.isArray(parsed?.details) ? (parsed.details as FieldProblem[]) : [];
  const err = new ApiError(res.status, message, details, parsed);
  if (res.status === 401 && !opts.noAuthRedirect) {
    setToken(null);
    for (const fn of unauthorizedListeners) fn(err);
  }
  throw err;
}

export async function get<T>(path: string, query?: RequestOptions["query"]): Promise<T> {
  return (await request<T>(path, { query })).data;
}

export async function send<T>(method: string, path: string, body?: unknown): Promise<T> {
  return (await request<T>(path, { method, body })).data;
}

/** Field problems carried by a failed call: `details`, or the `errors` of a ValidationResult. */
export function problemsOf(err: unknown): FieldProblem[] {
  if (!(err instanceof ApiError)) return [];
  if (err.details.length) return err.details;
  const body = err.body as { errors?: unknown } | undefined;
  return Array.isArray(body?.errors) ? (body.errors as FieldProblem[]) : [];
}
