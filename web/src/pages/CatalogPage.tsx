import { lazy, Suspense, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useCatalog, usePollInterval, useStats } from "../api/hooks";
import { PROTOCOLS, SOURCES, STATES, type CatalogEntry, type Sort } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { Spinner } from "../components/Spinner";
import {
  ErrorAlert,
  Pagination,
  ProtocolBadge,
  StatusBadge,
  formatLatency,
  protocolLabel,
  relativeTime,
  stateLabel,
} from "../components/ui";
import {
  PER_PAGE_CHOICES,
  filtersToParams,
  hasFilters,
  parseFilters,
  toQuery,
  type CatalogFilters,
} from "../lib/catalogFilters";
import { useDebouncedField, usePageTitle, useSlashFocus } from "../lib/hooks";

const RegisterDialog = lazy(() => import("./RegisterDialog"));

const DISCOVERABLE = new Set(["a2a.skill", "mcp.tool", "mcp.resource", "mcp.prompt"]);

const SORT_LABELS: Record<Sort, string> = {
  lastSuccessAt_desc: "Last successful probe",
  displayName_asc: "Name (A–Z)",
  createdAt_desc: "Newest first",
};

const SOURCE_LABELS: Record<string, string> = {
  k8s: "Kubernetes",
  config: "Configuration",
  push: "Registered (push)",
  upstream: "Upstream",
};

function StatsBar({ refreshMs }: { refreshMs: number }) {
  const stats = useStats(refreshMs);
  if (stats.isError) return <ErrorAlert error={stats.error} what="Statistics" onRetry={() => void stats.refetch()} />;
  const s = stats.data;
  const by = s?.by_status ?? {};
  const items: Array<[string, number | undefined, string]> = [
    ["Total", s?.total, "total"],
    ["Active", by.active ?? 0, "active"],
    ["Degraded", by.degraded ?? 0, "degraded"],
    ["Offline", by.offline ?? 0, "offline"],
    ["Pending", by.registered ?? 0, "registered"],
    ["Deprecated", by.deprecated ?? 0, "deprecated"],
  ];
  return (
    <section aria-label="Catalog statistics" className="stats">
      <dl>
        {items.map(([label, n, key]) => (
          <div key={key} className={`stat stat-${key}`}>
            <dt>{label}</dt>
            <dd>{s ? n : "…"}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function EntryRow({ e }: { e: CatalogEntry }) {
  const caps = e.capabilities
    ? e.capabilities.filter((c) => DISCOVERABLE.has(c.kind)).length
    : (e.capabilities_count ?? 0);
  const provider = e.provider?.organization || e.provider?.team || "—";
  return (
    <tr>
      <td>
        <Link to={`/catalog/${encodeURIComponent(e.id)}`} className="entry-link">
          {e.display_name}
        </Link>
        {e.description ? <div className="muted clamp">{e.description}</div> : null}
      </td>
      <td>
        <ProtocolBadge protocol={e.protocol} />
      </td>
      <td>
        <StatusBadge state={e.status} />
        <div className="muted small">
          {e.health?.latencyMs ? formatLatency(e.health.latencyMs) : null}
        </div>
      </td>
      <td>
        {provider}
        {e.provider?.team && e.provider.team !== provider ? <div className="muted small">{e.provider.team}</div> : null}
      </td>
      <td className="num">{caps}</td>
      <td className="nowrap">{e.spec_version ? `${protocolLabel(e.protocol)} ${e.spec_version}` : "—"}</td>
      <td>{e.auth_summary?.label ?? (e.protocol === "a2a" ? "None" : "—")}</td>
      <td title={e.health?.lastSuccessAt ?? undefined}>{relativeTime(e.health?.lastSuccessAt)}</td>
    </tr>
  );
}

export function CatalogPage() {
  usePageTitle("Catalog");
  const [params, setParams] = useSearchParams();
  const f = parseFilters(params);
  const { can } = useAuth();
  const [registerOpen, setRegisterOpen] = useState(false);
  const searchRef = useSlashFocus<HTMLInputElement>();

  const update = (patch: Partial<CatalogFilters>, keepPage = false) => {
    const next = { ...f, ...patch, page: keepPage ? (patch.page ?? f.page) : 1 };
    setParams(filtersToParams(next), { replace: !keepPage });
  };
  const [search, setSearch] = useDebouncedField(f.q, (q) => update({ q }));
  const [team, setTeam] = useDebouncedField(f.team, (teamValue) => update({ team: teamValue }));
  const [tags, setTags] = useDebouncedField(f.tags, (t) => update({ tags: t }));

  const refreshMs = usePollInterval(can("settings:read"));
  const list = useCatalog(toQuery(f), refreshMs);
  const filtered = hasFilters(f);
  const toggleState = (s: string) =>
    update({ states: f.states.includes(s) ? f.states.filter((x) => x !== s) : [...f.states, s] });
  const clear = () => setParams(filtersToParams({ ...parseFilters(new URLSearchParams()), sort: f.sort, perPage: f.perPage }));

  return (
    <div className="stack">
      <div className="page-head">
        <h1>Catalog</h1>
        <div className="row">
          <span className="muted small" aria-live="polite">
            {list.isFetching && !list.isPending ? "Refreshing…" : list.dataUpdatedAt ? `Updated ${new Date(list.dataUpdatedAt).toLocaleTimeString()}` : ""}
          </span>
          <button type="button" className="btn" onClick={() => void list.refetch()} disabled={list.isFetching}>
            Refresh
          </button>
          {can("catalog:write") ? (
            <button type="button" className="btn btn-primary" onClick={() => setRegisterOpen(true)}>
              Register agent
            </button>
          ) : null}
        </div>
      </div>

      <StatsBar refreshMs={refreshMs} />

      <section aria-label="Filters" className="filters">
        <div role="search" className="filter-search">
          <label className="field">
            <span>
              Search <kbd aria-hidden="true">/</kbd>
            </span>
            <input
              ref={searchRef}
              type="search"
              value={search}
              placeholder="Name, description, capability, provider…"
              onChange={(e) => setSearch(e.target.value)}
              aria-keyshortcuts="/"
            />
          </label>
        </div>
        <label className="field">
          <span>Protocol</span>
          <select value={f.protocol} onChange={(e) => update({ protocol: e.target.value })}>
            <option value="">All protocols</option>
            {PROTOCOLS.map((p) => (
              <option key={p} value={p}>
                {protocolLabel(p)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Source</span>
          <select value={f.source} onChange={(e) => update({ source: e.target.value })}>
            <option value="">All sources</option>
            {SOURCES.map((s) => (
              <option key={s} value={s}>
                {SOURCE_LABELS[s] ?? s}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Team</span>
          <input value={team} onChange={(e) => setTeam(e.target.value)} placeholder="Provider team" />
        </label>
        <label className="field">
          <span>Tags</span>
          <input value={tags} onChange={(e) => setTags(e.target.value)} placeholder="nlp, translation" />
        </label>
        <label className="field">
          <span>Sort by</span>
          <select value={f.sort} onChange={(e) => update({ sort: e.target.value as Sort })}>
            {(Object.keys(SORT_LABELS) as Sort[]).map((s) => (
              <option key={s} value={s}>
                {SORT_LABELS[s]}
              </option>
            ))}
          </select>
        </label>
        <fieldset className="state-filter">
          <legend>State</legend>
          {STATES.map((s) => (
            <label key={s} className="chip">
              <input type="checkbox" checked={f.states.includes(s)} onChange={() => toggleState(s)} />
              <span>{stateLabel(s)}</span>
            </label>
          ))}
        </fieldset>
        {filtered ? (
          <button type="button" className="btn btn-link" onClick={clear}>
            Clear filters
          </button>
        ) : null}
      </section>

      {list.isError && list.data ? (
        <ErrorAlert error={list.error} what="Could not refresh the catalog (showing the last answer)" onRetry={() => void list.refetch()} />
      ) : null}
      {list.isPending ? (
        <Spinner label="Loading catalog" />
      ) : list.isError && !list.data ? (
        <ErrorAlert error={list.error} what="Could not load the catalog" onRetry={() => void list.refetch()} />
      ) : list.data.items.length === 0 ? (
        <div className="empty">
          {filtered || f.page > 1 ? (
            <>
              <p>No agents match the current filters.</p>
              <button type="button" className="btn" onClick={clear}>
                Show all agents
              </button>
            </>
          ) : (
            <>
              <p>No agents registered yet.</p>
              {can("catalog:write") ? (
                <button type="button" className="btn btn-primary" onClick={() => setRegisterOpen(true)}>
                  Register your first agent
                </button>
              ) : null}
            </>
          )}
        </div>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table" aria-busy={list.isFetching}>
              <caption className="visually-hidden">Catalog entries</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Protocol</th>
                  <th scope="col">Status</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Capabilities</th>
                  <th scope="col">Spec</th>
                  <th scope="col">Auth</th>
                  <th scope="col">Last success</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((e) => (
                  <EntryRow key={e.id} e={e} />
                ))}
              </tbody>
            </table>
          </div>
          <div className="row between">
            <label className="field inline">
              <span>Rows per page</span>
              <select value={f.perPage} onChange={(e) => update({ perPage: Number(e.target.value) })}>
                {PER_PAGE_CHOICES.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>
            <Pagination
              total={list.data.total}
              limit={f.perPage}
              offset={(f.page - 1) * f.perPage}
              onChange={(offset) => update({ page: Math.floor(offset / f.perPage) + 1 }, true)}
              label="Catalog pages"
            />
          </div>
        </>
      )}
      {registerOpen ? (
        <Suspense fallback={<Spinner label="Loading" />}>
          <RegisterDialog onClose={() => setRegisterOpen(false)} />
        </Suspense>
      ) : null}
    </div>
  );
}
