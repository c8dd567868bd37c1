// For administrators: what runs (version, Lua generation) and why the last reload failed.
import { useMutation } from "@tanstack/react-query";
import { errorMessage, send } from "../api/client";
import { useSystem } from "../api/hooks";
import { useAuth } from "../auth/AuthContext";
import { Spinner } from "../components/Spinner";
import { useToast } from "../components/Toast";
import { ErrorAlert, Section, formatTime } from "../components/ui";
import type { LuaGeneration, ReloadError } from "../api/types";
import type { ReactNode } from "react";

function KV({ rows }: { rows: Array<[string, ReactNode]> }) {
  return (
    <dl className="kv">
      {rows
        .filter(([, v]) => v !== undefined && v !== null && v !== "")
        .map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
    </dl>
  );
}
import { usePageTitle } from "../lib/hooks";

export default function SystemPage() {
  usePageTitle("System status");
  const { can } = useAuth();
  const allowed = can("settings:write");
  const sys = useSystem(allowed);
  const toast = useToast();
  const reload = useMutation({
    mutationFn: () => send<{ status: string }>("POST", "/system/reload"),
    onSuccess: () => {
      toast.success("Reload requested");
      window.setTimeout(() => void sys.refetch(), 1000);
    },
    onError: (e) => toast.error(`Reload failed: ${errorMessage(e)}`),
  });
  const raw = sys.data;
  const gen: LuaGeneration | null =
    raw?.generation === null || raw?.generation === undefined
      ? null
      : typeof raw.generation === "number"
        ? { id: raw.generation }
        : raw.generation;
  const err: ReloadError | null =
    raw?.last_reload_error === null || raw?.last_reload_error === undefined
      ? null
      : typeof raw.last_reload_error === "string"
        ? { message: raw.last_reload_error }
        : raw.last_reload_error;
  if (!allowed) {
    return (
      <div className="stack">
        <h1>System status</h1>
        <p role="alert" className="alert alert-error">
          You need the settings:write permission to see the system status.
        </p>
      </div>
    );
  }
  return (
    <div className="stack">
      <div className="page-head">
        <h1>System status</h1>
        <button type="button" className="btn" onClick={() => reload.mutate()} disabled={reload.isPending} aria-busy={reload.isPending}>
          {reload.isPending ? "Reloading…" : "Reload Lua modules"}
        </button>
      </div>
      {sys.isPending ? (
        <Spinner label="Loading system status" />
      ) : sys.isError ? (
        <ErrorAlert error={sys.error} what="Could not load the system status" onRetry={() => void sys.refetch()} />
      ) : (
        <div className="grid-2">
          <Section title="Running">
            <KV
              rows={[
                ["Version", sys.data.version],
                ["Lua generation", gen ? String(gen.id) : "none"],
                ["Loaded", gen?.created_at ? formatTime(gen.created_at) : null],
                ["Origin", gen?.origin],
                ["Modules", gen?.modules],
                ["Routes", gen?.routes],
                ["Operator scripts", gen?.scripts],
              ]}
            />
          </Section>
          <Section title="Last reload">
            {err ? (
              <div className="alert alert-error">
                <p>The last reload failed; the previous generation keeps serving.</p>
                <KV
                  rows={[
                    ["Error", err.message],
                    ["File", err.file ? `${err.file}${err.line ? `:${err.line}` : ""}` : null],
                    ["When", err.at ? formatTime(err.at) : null],
                  ]}
                />
              </div>
            ) : (
              <p>The last reload succeeded (no error).</p>
            )}
          </Section>
        </div>
      )}
    </div>
  );
}
