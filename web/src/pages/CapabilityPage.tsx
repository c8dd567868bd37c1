import { Link, useParams } from "react-router";
import { useCapability } from "../api/hooks";
import { JsonView } from "../components/JsonView";
import { Spinner } from "../components/Spinner";
import { ErrorAlert, ProtocolBadge, StatusBadge, formatLatency } from "../components/ui";
import { usePageTitle } from "../lib/hooks";
import { kindLabel } from "./CapabilitiesPage";

export default function CapabilityPage() {
  const { key = "" } = useParams();
  const cap = useCapability(key);
  usePageTitle(cap.data?.capability.name ?? "Capability");
  return (
    <div className="stack">
      <Link to="/capabilities">← Back to capabilities</Link>
      {cap.isPending ? (
        <Spinner label="Loading capability" />
      ) : cap.isError ? (
        <>
          <h1>Capability</h1>
          <ErrorAlert error={cap.error} onRetry={() => void cap.refetch()} />
        </>
      ) : (
        <>
          <div>
            <h1>{cap.data.capability.name}</h1>
            <p className="row">
              <span className="badge">{kindLabel(cap.data.capability.kind)}</span>
              <span className="muted">
                {cap.data.agents.length} {cap.data.agents.length === 1 ? "agent" : "agents"}
              </span>
            </p>
            {cap.data.capability.description ? <p>{cap.data.capability.description}</p> : null}
          </div>
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Agents offering {cap.data.capability.name}</caption>
              <thead>
                <tr>
                  <th scope="col">Agent</th>
                  <th scope="col">Protocol</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Status</th>
                  <th scope="col">Spec</th>
                  <th scope="col">Latency</th>
                  <th scope="col">Definition</th>
                </tr>
              </thead>
              <tbody>
                {cap.data.agents.map((a) => (
                  <tr key={a.id}>
                    <td>
                      <Link to={`/catalog/${encodeURIComponent(a.id)}`}>{a.display_name}</Link>
                    </td>
                    <td>
                      <ProtocolBadge protocol={a.protocol} />
                    </td>
                    <td>{a.provider?.organization ?? "—"}</td>
                    <td>
                      <StatusBadge state={a.status} />
                    </td>
                    <td>{a.spec_version ?? "—"}</td>
                    <td>{a.health?.lastSuccessAt ? formatLatency(a.health.latencyMs) : "—"}</td>
                    <td>
                      {a.capability_snippet !== undefined ? (
                        <details>
                          <summary>Show</summary>
                          <JsonView value={a.capability_snippet} label={`Definition on ${a.display_name}`} />
                        </details>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </div>
  );
}
