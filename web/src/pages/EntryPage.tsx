// One catalog entry: overview, capabilities with schemas, authentication, health, tool drift,
// raw card; probe / deprecate / delete for those allowed to.
import { useState, type ReactNode } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { ApiError, errorMessage } from "../api/client";
import {
  useDeleteEntry,
  useDrift,
  useEntry,
  useEntryHealth,
  useLifecycle,
  useProbe,
  useRawCard,
} from "../api/hooks";
import type { Capability, CatalogEntry, DriftEvent, SecurityRequirement, SecurityScheme } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { LatencyChart, UptimeBar } from "../components/Charts";
import { ConfirmDialog } from "../components/Dialog";
import { JsonView, prettyJson } from "../components/JsonView";
import { Spinner } from "../components/Spinner";
import { useToast } from "../components/Toast";
import {
  Badge,
  ErrorAlert,
  ProtocolBadge,
  Section,
  StatusBadge,
  Tabs,
  formatLatency,
  formatTime,
  protocolLabel,
  relativeTime,
} from "../components/ui";
import { usePageTitle } from "../lib/hooks";

const TABS = [
  { id: "overview", label: "Overview" },
  { id: "auth", label: "Authentication" },
  { id: "health", label: "Health" },
  { id: "drift", label: "Tool drift" },
  { id: "card", label: "Raw card" },
];

function KV({ rows }: { rows: Array<[string, ReactNode]> }) {
  return (
    <dl className="kv">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v === undefined || v === null || v === "" ? "—" : v}</dd>
        </div>
      ))}
    </dl>
  );
}

function Overview({ e }: { e: CatalogEntry }) {
  const p = e.provider;
  return (
    <div className="grid-2">
      <Section title="General">
        <KV
          rows={[
            ["Endpoint", e.endpoint ? <code>{e.endpoint}</code> : null],
            ["Protocol", protocolLabel(e.protocol)],
            ["Spec version", e.spec_version],
            ["Version", e.version],
            ["Source", e.source],
            ["State", <StatusBadge key="s" state={e.status} />],
            ["Categories", e.categories?.length ? e.categories.map((c) => <Badge key={c}>{c}</Badge>) : null],
            ["Created", formatTime(e.created_at)],
            ["Updated", formatTime(e.updated_at)],
            ["Authentication", e.auth_summary ? `${e.auth_summary.label}${e.auth_summary.required ? " (required)" : ""}` : "none declared"],
          ]}
        />
      </Section>
      <Section title="Provider">
        {p && (p.organization || p.team || p.url) ? (
          <KV
            rows={[
              ["Organization", p.organization],
              ["Team", p.team],
              [
                "URL",
                p.url && /^https?:\/\//i.test(p.url) ? (
                  <a href={p.url} target="_blank" rel="noreferrer noopener">
                    {p.url}
                  </a>
                ) : (
                  p.url
                ),
              ],
            ]}
          />
        ) : (
          <p className="muted">The card names no provider.</p>
        )}
        <h2 id="ov-health" className="mt">
          Health
        </h2>
        <KV
          rows={[
            ["Last probed", relativeTime(e.health.lastProbedAt)],
            ["Last success", relativeTime(e.health.lastSuccessAt)],
            ["Latency", e.health.lastSuccessAt ? formatLatency(e.health.latencyMs) : null],
            ["Consecutive failures", String(e.health.consecutiveFailures ?? 0)],
            ["Last error", e.health.lastError || null],
          ]}
        />
      </Section>
      {e.metadata && Object.keys(e.metadata).length > 0 ? (
        <Section title="Metadata">
          <KV rows={Object.entries(e.metadata).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])} />
        </Section>
      ) : null}
    </div>
  );
}

const GROUPS: Array<{ kind: string; title: string }> = [
  { kind: "a2a.skill", title: "Skills" },
  { kind: "mcp.tool", title: "Tools" },
  { kind: "mcp.resource", title: "Resources" },
  { kind: "mcp.prompt", title: "Prompts" },
  { kind: "a2a.interface", title: "Interfaces" },
  { kind: "a2a.extension", title: "Extensions" },
  { kind: "a2a.signature", title: "Signatures" },
];
const SHOWN_ELSEWHERE = new Set(["a2a.security_scheme", "a2a.security_requirement"]);

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

function CapabilityItem({ c }: { c: Capability }) {
  const tags = list(c.tags);
  const inModes = list(c.inputModes);
  const outModes = list(c.outputModes);
  const schema = c.input_schema ?? c.inputSchema;
  const args = Array.isArray(c.arguments) ? (c.arguments as Array<Record<string, unknown>>) : [];
  const title = String(c.name ?? c.uri ?? c.url ?? c.kind);
  return (
    <li>
      <h3 className="h4">{title}</h3>
      {c.description ? <p className="muted">{String(c.description)}</p> : null}
      {c.kind === "mcp.resource" && c.uri ? (
        <p className="small">
          URI: <code>{String(c.uri)}</code>
        </p>
      ) : null}
      {c.kind === "a2a.interface" ? (
        <p className="small">
          <code>{String(c.url ?? "")}</code> {c.binding ? <Badge>{String(c.binding)}</Badge> : null}
        </p>
      ) : null}
      {c.kind === "a2a.extension" ? (
        <p className="small">
          <code>{String(c.uri ?? "")}</code> {c.required ? <Badge tone="warn">required</Badge> : null}
        </p>
      ) : null}
      {tags.length ? (
        <p className="row small" aria-label="Tags">
          {tags.map((t) => (
            <Badge key={t}>{t}</Badge>
          ))}
        </p>
      ) : null}
      {inModes.length || outModes.length ? (
        <p className="small muted">
          Input: {inModes.join(", ") || "—"} · Output: {outModes.join(", ") || "—"}
        </p>
      ) : null}
      {args.length ? (
        <table className="table small">
          <caption className="visually-hidden">Arguments of {title}</caption>
          <thead>
            <tr>
              <th scope="col">Argument</th>
              <th scope="col">Required</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {args.map((a, i) => (
              <tr key={i}>
                <td>
                  <code>{String(a.name ?? "")}</code>
                </td>
                <td>{a.required ? "yes" : "no"}</td>
                <td>{String(a.description ?? "")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {schema !== undefined && schema !== null ? (
        <details>
          <summary>Input schema</summary>
          <JsonView value={schema} label={`Input schema of ${title}`} />
        </details>
      ) : null}
    </li>
  );
}

function Capabilities({ e }: { e: CatalogEntry }) {
  const caps = (e.capabilities ?? []).filter((c) => !SHOWN_ELSEWHERE.has(c.kind));
  if (caps.length === 0) return <p className="muted">This entry declares no capabilities.</p>;
  const known = new Set(GROUPS.map((g) => g.kind));
  const groups = [...GROUPS, { kind: "*", title: "Other" }];
  return (
    <div className="stack">
      {groups.map((g) => {
        const items = caps.filter((c) => (g.kind === "*" ? !known.has(c.kind) : c.kind === g.kind));
        if (items.length === 0) return null;
        return (
          <section key={g.kind} aria-labelledby={`cap-${g.kind}`}>
            <h2 id={`cap-${g.kind}`}>
              {g.title} ({items.length})
            </h2>
            <ul className="cap-list">
              {items.map((c, i) => (
                <CapabilityItem key={i} c={c} />
              ))}
            </ul>
          </section>
        );
      })}
    </div>
  );
}

function schemeSummary(s: SecurityScheme): string {
  switch (s.type) {
    case "http":
      return `HTTP ${s.http_scheme ?? ""}${s.bearer_format ? ` (${s.bearer_format})` : ""}`.trim();
    case "apiKey":
      return `API key in ${s.api_key_location ?? "?"} "${s.api_key_name ?? "?"}"`;
    case "oauth2":
      return "OAuth 2.0";
    case "openIdConnect":
      return "OpenID Connect";
    case "mutualTls":
      return "Mutual TLS";
    default:
      return s.type ?? "unknown";
  }
}

function Authentication({ e }: { e: CatalogEntry }) {
  const schemes = e.security_detail?.security_schemes ?? [];
  const reqs: SecurityRequirement[] = e.security_detail?.security_requirements ?? [];
  if (schemes.length === 0 && reqs.length === 0) {
    return (
      <p className="muted">
        {e.protocol === "mcp"
          ? "MCP servers negotiate authentication at the transport level; the description declares none."
          : "The card declares no authentication: the agent is open."}
      </p>
    );
  }
  const top = reqs.filter((r) => !r.skill_ref);
  const perSkill = reqs.filter((r) => r.skill_ref);
  const reqRow = (r: SecurityRequirement, i: number) => (
    <li key={i}>
      {Object.entries(r.schemes ?? {}).map(([name, scopes], j) => (
        <span key={name}>
          {j > 0 ? " and " : ""}
          <strong>{name}</strong>
          {scopes.length ? ` (scopes: ${scopes.join(", ")})` : ""}
        </span>
      ))}
    </li>
  );
  return (
    <div className="stack">
      <Section title="Requirements" className="">
        {top.length ? (
          <>
            <p>A client must satisfy one of:</p>
            <ul>{top.map(reqRow)}</ul>
          </>
        ) : (
          <p className="muted">No card-wide requirement.</p>
        )}
        {perSkill.length ? (
          <>
            <h3 className="h4">Per skill</h3>
            <ul>
              {perSkill.map((r, i) => (
                <li key={i}>
                  <em>{r.skill_ref}</em>: {Object.keys(r.schemes ?? {}).join(" and ")}
                </li>
              ))}
            </ul>
          </>
        ) : null}
      </Section>
      <Section title="Schemes" className="">
        <div className="grid-2">
          {schemes.map((s) => (
            <div key={s.scheme_name} className="card">
              <h3 className="h4">
                {s.scheme_name} <Badge>{s.type}</Badge>
              </h3>
              <p>{schemeSummary(s)}</p>
              {s.description ? <p className="muted">{s.description}</p> : null}
              {s.openid_connect_url ? (
                <p className="small">
                  Discovery: <code>{s.openid_connect_url}</code>
                </p>
              ) : null}
              {s.oauth2_metadata_url ? (
                <p className="small">
                  Metadata: <code>{s.oauth2_metadata_url}</code>
                </p>
              ) : null}
              {(s.oauth_flows ?? []).map((f, i) => (
                <div key={i} className="small">
                  <strong>{f.flow_type}</strong>
                  {f.deprecated ? <Badge tone="warn">deprecated</Badge> : null}
                  <KV
                    rows={[
                      ["Authorization URL", f.authorization_url],
                      ["Token URL", f.token_url],
                      ["Device URL", f.device_auth_url],
                      ["Refresh URL", f.refresh_url],
                      ["Scopes", f.scopes ? Object.keys(f.scopes).join(", ") : null],
                    ].filter(([, v]) => v) as Array<[string, ReactNode]>}
                  />
                </div>
              ))}
            </div>
          ))}
        </div>
      </Section>
    </div>
  );
}

function Health({ id }: { id: string }) {
  const h = useEntryHealth(id);
  if (h.isPending) return <Spinner label="Loading health" />;
  if (h.isError) return <ErrorAlert error={h.error} what="Could not load the health history" onRetry={() => void h.refetch()} />;
  const { health, history, uptime, latency } = h.data;
  const lastFailure = [...history].reverse().find((r) => !r.ok);
  return (
    <div className="stack">
      <div className="grid-2">
        <Section title="Current">
          <KV
            rows={[
              ["State", <StatusBadge key="s" state={health.state} />],
              ["Last probed", formatTime(health.lastProbedAt)],
              ["Last success", formatTime(health.lastSuccessAt)],
              ["Latency", health.lastSuccessAt ? formatLatency(health.latencyMs) : null],
              ["Consecutive failures", String(health.consecutiveFailures ?? 0)],
              [
                "Uptime",
                uptime.ratio === null ? "no probes yet" : `${(uptime.ratio * 100).toFixed(1)} % (${uptime.up} of ${uptime.total} probes)`,
              ],
            ]}
          />
        </Section>
        <Section title="Last failure">
          {lastFailure || health.lastError ? (
            <KV
              rows={[
                ["Reason", lastFailure?.reason ?? health.lastError],
                ["When", lastFailure ? formatTime(lastFailure.at) : null],
                ["HTTP status", lastFailure?.status ? String(lastFailure.status) : null],
              ]}
            />
          ) : (
            <p className="muted">No failure in the recent history.</p>
          )}
        </Section>
      </div>
      <Section title="Recent probes" className="card stack">
        <UptimeBar history={history} />
        {history.length ? (
          <div className="table-wrap">
            <table className="table small">
              <caption className="visually-hidden">Last probes, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Result</th>
                  <th scope="col">Latency</th>
                  <th scope="col">HTTP status</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {[...history]
                  .reverse()
                  .slice(0, 10)
                  .map((r, i) => (
                    <tr key={i}>
                      <td>{formatTime(r.at)}</td>
                      <td>{r.ok ? <Badge tone="ok">ok</Badge> : <Badge tone="danger">failed</Badge>}</td>
                      <td>{formatLatency(r.latencyMs)}</td>
                      <td>{r.status ?? "—"}</td>
                      <td>{r.reason ?? "—"}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </Section>
      <Section title="Latency">
        <LatencyChart points={latency} />
      </Section>
    </div>
  );
}

function driftTime(d: DriftEvent): string | undefined {
  return d.at ?? d.detected_at ?? (typeof d.changed_at === "string" ? d.changed_at : undefined);
}

function names(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.map((x) => {
    if (typeof x === "string") return x;
    if (x && typeof x === "object" && "name" in x) {
      const o = x as { name: unknown; fields?: unknown };
      const fields = Array.isArray(o.fields) && o.fields.length ? ` (${o.fields.map(String).join(", ")})` : "";
      return `${String(o.name)}${fields}`;
    }
    return JSON.stringify(x);
  });
}

function toolCount(v: unknown): string | null {
  if (typeof v === "number") return String(v);
  if (Array.isArray(v)) return String(v.length);
  return null;
}

function Drift({ e }: { e: CatalogEntry }) {
  const fromEntry = Array.isArray(e.tool_drift) ? e.tool_drift : undefined;
  const q = useDrift(e.id, fromEntry, true);
  const events = fromEntry ?? q.data;
  if (!fromEntry && q.isPending) return <Spinner label="Loading tool drift" />;
  if (!fromEntry && q.isError) return <ErrorAlert error={q.error} what="Could not load the drift history" onRetry={() => void q.refetch()} />;
  if (events === null || events === undefined) return <p className="muted">This server does not record tool drift.</p>;
  if (events.length === 0) return <p className="muted">No tool drift recorded: the tools have not changed since they were first listed.</p>;
  // Newest first, whatever order the server used.
  const sorted = [...events].sort((a, b) => (driftTime(b) ?? "").localeCompare(driftTime(a) ?? ""));
  return (
    <ol className="cap-list" aria-label="Tool drift history">
      {sorted.map((d, i) => {
        const added = names(d.added);
        const removed = names(d.removed);
        const changed = names(d.changed);
        const before = toolCount(d.toolsBefore ?? d.tools_before);
        const after = toolCount(d.toolsAfter ?? d.tools_after);
        return (
          <li key={i}>
            <h2 className="h4">
              {formatTime(driftTime(d))}
              {d.source ? <span className="muted small"> · seen by {String(d.source)}</span> : null}
            </h2>
            {d.summary ? <p>{String(d.summary)}</p> : null}
            {added.length ? <p>Added: {added.join(", ")}</p> : null}
            {removed.length ? <p>Removed: {removed.join(", ")}</p> : null}
            {changed.length ? <p>Changed: {changed.join(", ")}</p> : null}
            {before !== null && after !== null ? (
              <p className="muted small">
                Tools: {before} → {after}
              </p>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}

/** The Clipboard API where the page is a secure context; a hidden text area elsewhere (plain
 *  HTTP on a non-local address). */
async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  const ok = document.execCommand?.("copy") ?? false;
  area.remove();
  if (!ok) throw new Error("the browser does not allow copying here");
}

function RawCard({ e }: { e: CatalogEntry }) {
  const card = useRawCard(e.id, true);
  const toast = useToast();
  if (card.isPending) return <Spinner label="Loading the raw card" />;
  if (card.isError) return <ErrorAlert error={card.error} what="Could not load the raw card" onRetry={() => void card.refetch()} />;
  const { text, fetchedAt, truncated } = card.data;
  if (text === null) return <p className="muted">No raw card stored for this entry.</p>;
  const copy = async () => {
    try {
      await copyText(text);
      toast.success("Card copied to the clipboard");
    } catch (err) {
      toast.error(`Could not copy: ${errorMessage(err)}`);
    }
  };
  const download = () => {
    const blob = new Blob([prettyJson(text).text], { type: "application/json" });
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = `${(e.display_name || e.id).replace(/[^\w.-]+/g, "_")}.json`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <div className="stack">
      <div className="row between">
        <span className="muted small">{fetchedAt ? `Stored ${formatTime(fetchedAt)}` : null}</span>
        <div className="row">
          <button type="button" className="btn" onClick={() => void copy()}>
            Copy card
          </button>
          <button type="button" className="btn" onClick={download}>
            Download card
          </button>
        </div>
      </div>
      {truncated ? (
        <p className="alert alert-warn" role="note">
          The stored card was truncated: it was larger than the storage limit.
        </p>
      ) : null}
      <JsonView text={text} label="Raw card JSON" />
    </div>
  );
}

function Actions({ e }: { e: CatalogEntry }) {
  const { can } = useAuth();
  const toast = useToast();
  const navigate = useNavigate();
  const probe = useProbe(e.id);
  const lifecycle = useLifecycle(e.id);
  const del = useDeleteEntry(e.id);
  const [confirm, setConfirm] = useState(false);
  const write = can("catalog:write");
  const remove = can("catalog:delete");
  if (!write && !remove) return null;
  const deprecated = e.status === "deprecated";
  return (
    <div className="row" role="group" aria-label="Entry actions">
      {write ? (
        <>
          <button
            type="button"
            className="btn"
            disabled={probe.isPending}
            aria-busy={probe.isPending}
            onClick={() =>
              probe.mutate(undefined, {
                onSuccess: (h) =>
                  toast.success(
                    `Probe done: ${h.state}${h.lastError ? ` (${h.lastError})` : h.latencyMs ? `, ${formatLatency(h.latencyMs)}` : ""}`,
                  ),
                onError: (err) => toast.error(`Probe failed: ${errorMessage(err)}`),
              })
            }
          >
            {probe.isPending ? "Probing…" : "Probe now"}
          </button>
          <button
            type="button"
            className="btn"
            disabled={lifecycle.isPending}
            aria-busy={lifecycle.isPending}
            onClick={() =>
              lifecycle.mutate(deprecated ? "active" : "deprecated", {
                onSuccess: () => toast.success(deprecated ? "Entry un-deprecated" : "Entry deprecated"),
                onError: (err) => toast.error(errorMessage(err)),
              })
            }
          >
            {lifecycle.isPending ? "Saving…" : deprecated ? "Un-deprecate" : "Deprecate"}
          </button>
        </>
      ) : null}
      {remove ? (
        <button type="button" className="btn btn-danger" onClick={() => setConfirm(true)}>
          Delete
        </button>
      ) : null}
      {confirm ? (
        <ConfirmDialog
          title="Delete entry"
          message={
            <p>
              Delete <strong>{e.display_name}</strong> from the catalog? Its capabilities, health history and raw card go with
              it. This cannot be undone.
            </p>
          }
          confirmLabel="Delete"
          busy={del.isPending}
          error={del.isError ? errorMessage(del.error) : null}
          onClose={() => {
            del.reset();
            setConfirm(false);
          }}
          onConfirm={() =>
            del.mutate(undefined, {
              onSuccess: () => {
                toast.success(`Deleted ${e.display_name}`);
                navigate("/", { replace: true });
              },
            })
          }
        />
      ) : null}
    </div>
  );
}

export default function EntryPage() {
  const { id = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const entry = useEntry(id);
  // The capabilities are part of the overview (`?tab=capabilities` is kept as its alias).
  const tab = TABS.some((t) => t.id === params.get("tab")) ? params.get("tab")! : "overview";
  usePageTitle(entry.data?.display_name ?? "Entry");

  if (entry.isPending) return <Spinner label="Loading entry" />;
  if (entry.isError) {
    const missing = entry.error instanceof ApiError && entry.error.status === 404;
    return (
      <div className="stack">
        <Link to="/">← Back to catalog</Link>
        <h1>{missing ? "Entry not found" : "Entry"}</h1>
        <ErrorAlert error={entry.error} onRetry={missing ? undefined : () => void entry.refetch()} />
      </div>
    );
  }
  const e = entry.data;
  return (
    <div className="stack">
      <Link to="/">← Back to catalog</Link>
      <div className="page-head">
        <div>
          <h1>{e.display_name}</h1>
          <div className="row small">
            <ProtocolBadge protocol={e.protocol} />
            <StatusBadge state={e.status} />
            {e.spec_version ? <Badge>{`${protocolLabel(e.protocol)} ${e.spec_version}`}</Badge> : null}
            {e.version ? <span className="muted">v{e.version}</span> : null}
          </div>
        </div>
        <Actions e={e} />
      </div>
      {e.description ? <p className="lead">{e.description}</p> : null}
      <Tabs
        tabs={TABS}
        active={tab}
        label="Entry sections"
        onChange={(t) => {
          const next = new URLSearchParams(params);
          if (t === "overview") next.delete("tab");
          else next.set("tab", t);
          setParams(next, { replace: true });
        }}
      >
        {tab === "overview" ? (
          <div className="stack">
            <Overview e={e} />
            <Capabilities e={e} />
          </div>
        ) : null}
        {tab === "auth" ? <Authentication e={e} /> : null}
        {tab === "health" ? <Health id={e.id} /> : null}
        {tab === "drift" ? <Drift e={e} /> : null}
        {tab === "card" ? <RawCard e={e} /> : null}
      </Tabs>
    </div>
  );
}
