// Shapes of the AgentLens REST API (docs/api.md, docs/accounts.md).

export type Protocol = "a2a" | "mcp" | "a2ui";
export type LifecycleState = "registered" | "active" | "degraded" | "offline" | "deprecated";
export type Source = "k8s" | "config" | "push" | "upstream";

export const PROTOCOLS: Protocol[] = ["a2a", "mcp", "a2ui"];
export const STATES: LifecycleState[] = ["registered", "active", "degraded", "offline", "deprecated"];
export const SOURCES: Source[] = ["k8s", "config", "push", "upstream"];
export const SORTS = ["lastSuccessAt_desc", "displayName_asc", "createdAt_desc"] as const;
export type Sort = (typeof SORTS)[number];

export interface Health {
  state: string;
  lastProbedAt: string | null;
  lastSuccessAt: string | null;
  latencyMs: number | null;
  consecutiveFailures: number;
  lastError: string | null;
}

export interface Provider {
  id?: string;
  organization?: string | null;
  team?: string | null;
  url?: string | null;
}

export interface Capability {
  kind: string;
  name?: string;
  description?: string;
  [field: string]: unknown;
}

export interface AuthSummary {
  types: string[];
  label: string;
  required: boolean;
}

export interface SecurityScheme {
  scheme_name?: string;
  type?: string;
  description?: string;
  api_key_location?: string;
  api_key_name?: string;
  http_scheme?: string;
  bearer_format?: string;
  oauth_flows?: Array<{
    flow_type?: string;
    authorization_url?: string;
    token_url?: string;
    refresh_url?: string;
    device_auth_url?: string;
    scopes?: Record<string, string>;
    deprecated?: boolean;
  }>;
  oauth2_metadata_url?: string;
  openid_connect_url?: string;
  [field: string]: unknown;
}

export interface SecurityRequirement {
  schemes?: Record<string, string[]>;
  skill_ref?: string;
  [field: string]: unknown;
}

/** One tool-drift record (GET /catalog/{id}/drift → {drift: [...]}, newest first). Tools are
 *  {kind, name, hash}; changed ones also carry `fields` (what changed). */
export interface DriftEvent {
  at?: string;
  detected_at?: string;
  source?: string;
  added?: Array<string | { kind?: string; name: string }>;
  removed?: Array<string | { kind?: string; name: string }>;
  changed?: Array<string | { kind?: string; name: string; fields?: string[] }>;
  toolsBefore?: unknown;
  toolsAfter?: unknown;
  tools_before?: unknown;
  tools_after?: unknown;
  summary?: string;
  [field: string]: unknown;
}

export interface CatalogEntry {
  id: string;
  display_name: string;
  description?: string;
  protocol?: Protocol;
  endpoint?: string;
  version?: string;
  spec_version?: string;
  status: LifecycleState | string;
  source: Source | string;
  provider?: Provider;
  categories?: string[];
  capabilities?: Capability[];
  capabilities_count?: number;
  metadata?: Record<string, unknown>;
  health: Health;
  auth_summary?: AuthSummary;
  security_detail?: {
    security_schemes?: SecurityScheme[];
    security_requirements?: SecurityRequirement[];
  };
  has_raw_card?: boolean;
  tool_drift?: DriftEvent[];
  validity?: { last_seen?: string; from?: string; to?: string };
  created_at?: string;
  updated_at?: string;
}

export interface Stats {
  total: number;
  by_status: Record<string, number>;
  by_source: Record<string, number>;
  by_protocol?: Record<string, number>;
}

export interface ProbeRecord {
  at: string;
  ok: boolean;
  reason: string | null;
  latencyMs: number | null;
  status?: number | null;
}

export interface HealthReport {
  health: Health;
  history: ProbeRecord[];
  uptime: { ratio: number | null; up: number; total: number };
  latency: Array<{ at: string; latencyMs: number }>;
}

export interface FieldProblem {
  field: string;
  message: string;
}

export interface ValidationResult {
  valid: boolean;
  protocol?: string;
  spec_version?: string;
  errors: FieldProblem[];
  warnings: Array<FieldProblem | string>;
  preview?: Record<string, unknown>;
}

export interface CapabilityItem {
  kind: string;
  name: string;
  description?: string | null;
  tags?: string[] | null;
  input_modes?: string[] | null;
  output_modes?: string[] | null;
  agent_id: string;
  agent_name: string;
  protocol: string;
  status: string;
  health_state?: string;
  spec_version?: string | null;
  provider_org?: string | null;
  provider_url?: string | null;
  latency_ms?: number | null;
}

export interface CapabilityDetail {
  capability: { kind: string; name: string; description?: string | null };
  agents: Array<{
    id: string;
    display_name: string;
    protocol: string;
    provider: Provider | null;
    health: Health;
    spec_version?: string | null;
    status: string;
    capability_snippet?: unknown;
  }>;
}

export interface Role {
  id: string;
  name: string;
  description?: string | null;
  permissions: string[];
  is_system?: boolean;
  created_at?: string;
  updated_at?: string;
}

export interface User {
  id: string;
  username: string;
  email?: string | null;
  display_name?: string | null;
  role_id: string;
  role: Role;
  is_active: boolean;
  is_locked?: boolean;
  last_login?: string | null;
  created_at?: string;
  updated_at?: string;
}

export interface Permission {
  name: string;
  description: string;
}

export interface Setting {
  key: string;
  value: unknown;
  category: string;
  description?: string;
  type: "string" | "boolean" | "integer" | "enum";
  default?: unknown;
  allowed?: string[];
  min?: number;
  max?: number;
  min_length?: number;
  max_length?: number;
  unit?: string;
  updated_at?: string | null;
}

export interface LuaGeneration {
  id: number;
  created_at?: string;
  origin?: string;
  modules?: number;
  routes?: number;
  scripts?: number;
}

export interface ReloadError {
  message?: string;
  file?: string | null;
  line?: number | null;
  at?: string;
}

export interface SystemStatus {
  version: string;
  /** The published Lua generation (older servers sent only its number). */
  generation: LuaGeneration | number | null;
  /** Why the last reload failed; null when it worked (older servers sent a string). */
  last_reload_error: ReloadError | string | null;
}

export interface Paged<T> {
  items: T[];
  total: number;
}
