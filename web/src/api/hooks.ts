// Server state: one TanStack Query hook per read, mutation helpers that refresh what they touch.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, get, request, send } from "./client";
import type {
  CapabilityDetail,
  CapabilityItem,
  CatalogEntry,
  DriftEvent,
  Health,
  HealthReport,
  Paged,
  Permission,
  Role,
  Setting,
  Stats,
  SystemStatus,
  User,
  ValidationResult,
} from "./types";

/** Refresh period of live views (catalog, detail, health). */
export const LIVE_REFRESH_MS = 30_000;

export interface CatalogQuery {
  q?: string;
  protocol?: string;
  state?: string;
  source?: string;
  team?: string;
  categories?: string;
  sort?: string;
  limit: number;
  offset: number;
}

async function paged<T>(path: string, query: Record<string, string | number | undefined>): Promise<Paged<T>> {
  const res = await request<T[]>(path, { query });
  const items = Array.isArray(res.data) ? res.data : [];
  const header = res.headers.get("X-Total-Count");
  const total = header !== null && /^\d+$/.test(header) ? Number(header) : items.length;
  return { items, total };
}

export function useCatalog(q: CatalogQuery, refreshMs = LIVE_REFRESH_MS) {
  return useQuery({
    queryKey: ["catalog", "list", q],
    queryFn: () => paged<CatalogEntry>("/catalog", { ...q }),
    placeholderData: keepPreviousData,
    refetchInterval: refreshMs,
  });
}

export function useStats(refreshMs = LIVE_REFRESH_MS) {
  return useQuery({
    queryKey: ["catalog", "stats"],
    queryFn: () => get<Stats>("/stats"),
    refetchInterval: refreshMs,
  });
}

/** The live-refresh period: the `ui.poll_interval` setting when the user may read settings. */
export function usePollInterval(canReadSettings: boolean): number {
  const settings = useQuery({
    queryKey: ["settings"],
    enabled: canReadSettings,
    queryFn: () => get<Setting[]>("/settings"),
    staleTime: 5 * 60_000,
  });
  const v = settings.data?.find((s) => s.key === "ui.poll_interval")?.value;
  return typeof v === "number" && v >= 5 ? v * 1000 : LIVE_REFRESH_MS;
}

export function useEntry(id: string) {
  return useQuery({
    queryKey: ["catalog", "entry", id],
    queryFn: () => get<CatalogEntry>(`/catalog/${encodeURIComponent(id)}`),
    refetchInterval: LIVE_REFRESH_MS,
  });
}

export function useEntryHealth(id: string) {
  return useQuery({
    queryKey: ["catalog", "health", id],
    queryFn: () => get<HealthReport>(`/catalog/${encodeURIComponent(id)}/health`),
    refetchInterval: LIVE_REFRESH_MS,
  });
}

/** Tool-drift history: on the entry when the server puts it there, else its own endpoint; an
 *  absent endpoint (404/405) means "no drift data", not an error. */
export function useDrift(id: string, fromEntry: DriftEvent[] | undefined, enabled: boolean) {
  return useQuery({
    queryKey: ["catalog", "drift", id],
    enabled: enabled && fromEntry === undefined,
    queryFn: async (): Promise<DriftEvent[] | null> => {
      try {
        const data = await get<unknown>(`/catalog/${encodeURIComponent(id)}/drift`);
        if (Array.isArray(data)) return data as DriftEvent[];
        if (data && typeof data === "object") {
          const o = data as Record<string, unknown>;
          for (const k of ["history", "items", "drift", "tool_drift"]) {
            if (Array.isArray(o[k])) return o[k] as DriftEvent[];
          }
        }
        return [];
      } catch (e) {
        if (e instanceof ApiError && (e.status === 404 || e.status === 405)) return null;
        throw e;
      }
    },
    retry: false,
  });
}

export interface RawCard {
  text: string | null;
  fetchedAt: string | null;
  truncated: boolean;
  contentType: string | null;
}

export function useRawCard(id: string, enabled: boolean) {
  return useQuery({
    queryKey: ["catalog", "card", id],
    enabled,
    queryFn: async (): Promise<RawCard> => {
      try {
        const res = await request<string>(`/catalog/${encodeURIComponent(id)}/card`, { text: true });
        return {
          text: res.data,
          fetchedAt: res.headers.get("X-Raw-Card-Fetched-At"),
          truncated: res.headers.get("X-Raw-Card-Truncated") === "true",
          contentType: res.headers.get("Content-Type"),
        };
      } catch (e) {
        if (e instanceof ApiError && e.status === 404 && /no raw card/i.test(e.message)) {
          return { text: null, fetchedAt: null, truncated: false, contentType: null };
        }
        throw e;
      }
    },
  });
}

function useInvalidate() {
  const qc = useQueryClient();
  return (prefix: string[]) => qc.invalidateQueries({ queryKey: prefix });
}

export function useProbe(id: string) {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: () => send<Health>("POST", `/catalog/${encodeURIComponent(id)}/probe`),
    onSuccess: () => invalidate(["catalog"]),
  });
}

export function useLifecycle(id: string) {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: (state: "deprecated" | "active") =>
      send<CatalogEntry>("PATCH", `/catalog/${encodeURIComponent(id)}/lifecycle`, { state }),
    onSuccess: () => invalidate(["catalog"]),
  });
}

export function useDeleteEntry(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => send<void>("DELETE", `/catalog/${encodeURIComponent(id)}`),
    onSuccess: () => {
      qc.removeQueries({ queryKey: ["catalog", "entry", id] });
      return qc.invalidateQueries({ queryKey: ["catalog"] });
    },
  });
}

export async function validateCard(text: string, protocol: string, signal?: AbortSignal): Promise<ValidationResult> {
  const res = await request<ValidationResult>("/catalog/validate", {
    method: "POST",
    rawBody: text,
    query: { protocol: protocol || undefined },
    acceptStatus: [422],
    signal,
  });
  const v = res.data;
  return {
    ...v,
    valid: Boolean(v?.valid),
    errors: Array.isArray(v?.errors) ? v.errors : [],
    warnings: Array.isArray(v?.warnings) ? v.warnings : [],
  };
}

/** Register: the entry (201), or the ValidationResult of a refused card (422). */
export type RegisterOutcome = { entry: CatalogEntry } | { invalid: ValidationResult };

export function useRegister() {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: async (a: { text: string; protocol: string }): Promise<RegisterOutcome> => {
      const res = await request<CatalogEntry | ValidationResult>("/catalog/register", {
        method: "POST",
        rawBody: a.text,
        query: { protocol: a.protocol || undefined },
        acceptStatus: [422],
      });
      if (res.status === 422) {
        const v = res.data as ValidationResult;
        return { invalid: { ...v, valid: false, errors: v?.errors ?? [], warnings: v?.warnings ?? [] } };
      }
      return { entry: res.data as CatalogEntry };
    },
    onSuccess: (out) => {
      if ("entry" in out) void invalidate(["catalog"]);
    },
  });
}

export function useImport() {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: (a: { url: string; protocol: string }) =>
      send<CatalogEntry>("POST", "/catalog/import", a.protocol ? a : { url: a.url }),
    onSuccess: () => invalidate(["catalog"]),
  });
}

export function useCreateEntry() {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: (body: Record<string, string>) => send<CatalogEntry>("POST", "/catalog", body),
    onSuccess: () => invalidate(["catalog"]),
  });
}

export function useCapabilities(q: { q?: string; kind?: string; sort?: string; limit: number; offset: number }) {
  return useQuery({
    queryKey: ["capabilities", q],
    queryFn: async () => {
      const res = await request<{ total: number; items: CapabilityItem[] }>("/capabilities", { query: { ...q } });
      return { total: res.data.total ?? 0, items: res.data.items ?? [] };
    },
    placeholderData: keepPreviousData,
  });
}

export function useCapability(key: string) {
  return useQuery({
    queryKey: ["capability", key],
    queryFn: () => get<CapabilityDetail>(`/capabilities/${encodeURIComponent(key)}`),
  });
}

export function useUsers(limit: number, offset: number) {
  return useQuery({
    queryKey: ["users", limit, offset],
    queryFn: () => paged<User>("/users", { limit, offset }),
    placeholderData: keepPreviousData,
  });
}

export function useRoles(enabled = true) {
  return useQuery({
    queryKey: ["roles"],
    enabled,
    queryFn: () => paged<Role>("/roles", { limit: 500 }),
  });
}

export function usePermissions() {
  return useQuery({ queryKey: ["permissions"], queryFn: () => get<Permission[]>("/permissions"), staleTime: Infinity });
}

export function useSettings(enabled = true) {
  return useQuery({ queryKey: ["settings"], enabled, queryFn: () => get<Setting[]>("/settings") });
}

export function useSystem(enabled = true) {
  return useQuery({
    queryKey: ["system"],
    enabled,
    queryFn: () => get<SystemStatus>("/system"),
    refetchInterval: 10_000,
  });
}
