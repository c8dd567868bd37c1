// Capabilities browser: search and filter by kind; each capability with the agents offering it.
import { Link, useSearchParams } from "react-router";
import { useCapabilities } from "../api/hooks";
import type { CapabilityItem } from "../api/types";
import { Spinner } from "../components/Spinner";
import { ErrorAlert, Pagination, ProtocolBadge, StatusBadge, formatLatency } from "../components/ui";
import { useDebouncedField, usePageTitle, useSlashFocus } from "../lib/hooks";

export const KINDS: Array<[string, string]> = [
  ["a2a.skill", "A2A skill"],
  ["mcp.tool", "MCP tool"],
  ["mcp.resource", "MCP resource"],
  ["mcp.prompt", "MCP prompt"],
];
export const kindLabel = (k: string) => KINDS.find(([v]) => v === k)?.[1] ?? k;
const PAGE = 50;

export function capabilityKey(kind: string, name: string): string {
  return `${kind}::${name}`;
}

interface Group {
  kind: string;
  name: string;
  description: string;
  agents: CapabilityItem[];
}

function group(items: CapabilityItem[]): Group[] {
  const map = new Map<string, Group>();
  for (const it of items) {
    const key = capabilityKey(it.kind, it.name);
    let g = map.get(key);
    if (!g) {
      g = { kind: it.kind, name: it.name, description: it.description ?? "", agents: [] };
      map.set(key, g);
    }
    g.agents.push(it);
  }
  return [...map.values()];
}

export default function CapabilitiesPage() {
  usePageTitle("Capabilities");
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const kind = KINDS.some(([k]) => k === params.get("kind")) ? params.get("kind")! : "";
  const sort = params.get("sort") === "agentName_asc" ? "agentName_asc" : "name_asc";
  const page = Math.max(1, Number(params.get("page")) || 1);
  const searchRef = useSlashFocus<HTMLInputElement>();

  const set = (patch: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!("page" in patch)) next.delete("page");
    setParams(next, { replace: true });
  };
  const [text, setText] = useDebouncedField(q, (v) => set({ q: v }));

  const caps = useCapabilities({ q: q || undefined, kind: kind || undefined, sort, limit: PAGE, offset: (page - 1) * PAGE });
  const groups = caps.data ? group(caps.data.items) : [];

  return (
    <div className="stack">
      <h1>Capabilities</h1>
      <p className="muted">Skills, tools, resources and prompts offered by the agents that are not offline or deprecated.</p>
      <section aria-label="Filters" className="filters">
        <div role="search" className="filter-search">
          <label className="field">
            <span>
              Search capabilities <kbd aria-hidden="true">/</kbd>
            </span>
            <input ref={searchRef} type="search" value={text} onChange={(e) => setText(e.target.value)} aria-keyshortcuts="/" />
          </label>
        </div>
        <label className="field">
          <span>Kind</span>
          <select value={kind} onChange={(e) => set({ kind: e.target.value })}>
            <option value="">All kinds</option>
            {KINDS.map(([k, l]) => (
              <option key={k} value={k}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Sort by</span>
          <select value={sort} onChange={(e) => set({ sort: e.target.value === "name_asc" ? "" : e.target.value })}>
            <option value="name_asc">Capability name</option>
            <option value="agentName_asc">Agent name</option>
          </select>
        </label>
      </section>
      {caps.isPending ? (
        <Spinner label="Loading capabilities" />
      ) : caps.isError ? (
        <ErrorAlert error={caps.error} what="Could not load capabilities" onRetry={() => void caps.refetch()} />
      ) : groups.length === 0 ? (
        <div className="empty">
          <p>{q || kind ? "No capability matches the search." : "No capabilities yet."}</p>
        </div>
      ) : (
        <>
          <ul className="cap-list" aria-label="Capabilities">
            {groups.map((g) => (
              <li key={capabilityKey(g.kind, g.name)}>
                <div className="row between">
                  <h2 className="h4">
                    <Link to={`/capabilities/${encodeURIComponent(capabilityKey(g.kind, g.name))}`}>{g.name}</Link>{" "}
                    <span className="badge">{kindLabel(g.kind)}</span>
                  </h2>
                  <span className="muted small">
                    {g.agents.length} {g.agents.length === 1 ? "agent" : "agents"}
                  </span>
                </div>
                {g.description ? <p className="muted">{g.description}</p> : null}
                <p className="small">
                  Offered by{" "}
                  {g.agents.slice(0, 5).map((a, i) => (
                    <span key={a.agent_id}>
                      {i > 0 ? ", " : ""}
                      <Link to={`/catalog/${encodeURIComponent(a.agent_id)}`}>{a.agent_name}</Link>
                    </span>
                  ))}
                  {g.agents.length > 5 ? ` and ${g.agents.length - 5} more` : ""}
                </p>
                <details>
                  <summary>Agents offering {g.name}</summary>
                  <table className="table small">
                    <caption className="visually-hidden">Agents offering {g.name}</caption>
                    <thead>
                      <tr>
                        <th scope="col">Agent</th>
                        <th scope="col">Protocol</th>
                        <th scope="col">Status</th>
                        <th scope="col">Provider</th>
                        <th scope="col">Latency</th>
                      </tr>
                    </thead>
                    <tbody>
                      {g.agents.map((a) => (
                        <tr key={a.agent_id}>
                          <td>
                            <Link to={`/catalog/${encodeURIComponent(a.agent_id)}`}>{a.agent_name}</Link>
                          </td>
                          <td>
                            <ProtocolBadge protocol={a.protocol} />
                          </td>
                          <td>
                            <StatusBadge state={a.status} />
                          </td>
                          <td>{a.provider_org ?? "—"}</td>
                          <td>{formatLatency(a.latency_ms)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </details>
              </li>
            ))}
          </ul>
          <Pagination
            total={caps.data.total}
            limit={PAGE}
            offset={(page - 1) * PAGE}
            onChange={(o) => set({ page: String(Math.floor(o / PAGE) + 1) })}
            label="Capability pages"
          />
        </>
      )}
    </div>
  );
}
