// Small shared pieces: error alert with retry, badges, tabs, pagination, field errors.
import { cloneElement, useId, useRef, type KeyboardEvent, type ReactElement, type ReactNode } from "react";
import { errorMessage } from "../api/client";

export function ErrorAlert({ error, onRetry, what }: { error: unknown; onRetry?: () => void; what?: string }) {
  return (
    <div role="alert" className="alert alert-error">
      <p>
        {what ? `${what}: ` : ""}
        {errorMessage(error)}
      </p>
      {onRetry ? (
        <button type="button" className="btn" onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

const STATE_LABELS: Record<string, string> = {
  registered: "Pending",
  active: "Active",
  degraded: "Degraded",
  offline: "Offline",
  deprecated: "Deprecated",
};

export function stateLabel(state: string): string {
  return STATE_LABELS[state] ?? state;
}

export function StatusBadge({ state }: { state: string }) {
  return <span className={`badge badge-state badge-${state}`}>{stateLabel(state)}</span>;
}

export function protocolLabel(p: string | undefined): string {
  if (!p) return "—";
  return p === "a2ui" ? "A2UI" : p.toUpperCase();
}

export function ProtocolBadge({ protocol }: { protocol: string | undefined }) {
  return <span className={`badge badge-proto badge-${protocol ?? "none"}`}>{protocolLabel(protocol)}</span>;
}

export function Badge({ children, tone = "neutral" }: { children: ReactNode; tone?: string }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

export interface TabDef {
  id: string;
  label: string;
}

/** WAI-ARIA tabs: arrow keys move between tabs, the panel is labelled by its tab. */
export function Tabs({
  tabs,
  active,
  onChange,
  label,
  children,
}: {
  tabs: TabDef[];
  active: string;
  onChange: (id: string) => void;
  label: string;
  children: ReactNode;
}) {
  const base = useId();
  const refs = useRef<Record<string, HTMLButtonElement | null>>({});
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const i = tabs.findIndex((t) => t.id === active);
    let j = -1;
    if (e.key === "ArrowRight") j = (i + 1) % tabs.length;
    else if (e.key === "ArrowLeft") j = (i - 1 + tabs.length) % tabs.length;
    else if (e.key === "Home") j = 0;
    else if (e.key === "End") j = tabs.length - 1;
    if (j >= 0) {
      e.preventDefault();
      const t = tabs[j]!;
      onChange(t.id);
      refs.current[t.id]?.focus();
    }
  };
  return (
    <div className="tabs">
      <div role="tablist" aria-label={label} className="tablist" onKeyDown={onKey}>
        {tabs.map((t) => (
          <button
            key={t.id}
            ref={(el) => {
              refs.current[t.id] = el;
            }}
            type="button"
            role="tab"
            id={`${base}-tab-${t.id}`}
            aria-selected={t.id === active}
            aria-controls={`${base}-panel`}
            tabIndex={t.id === active ? 0 : -1}
            className="tab"
            onClick={() => onChange(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${base}-panel`} aria-labelledby={`${base}-tab-${active}`} className="tabpanel" tabIndex={0}>
        {children}
      </div>
    </div>
  );
}

export function Pagination({
  total,
  limit,
  offset,
  onChange,
  label = "Pagination",
}: {
  total: number;
  limit: number;
  offset: number;
  onChange: (offset: number) => void;
  label?: string;
}) {
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.max(1, Math.ceil(total / limit));
  const first = total === 0 ? 0 : offset + 1;
  const last = Math.min(total, offset + limit);
  return (
    <nav className="pagination" aria-label={label}>
      <span aria-live="polite">
        {first}–{last} of {total}
      </span>
      <button type="button" className="btn" disabled={page <= 1} onClick={() => onChange(Math.max(0, offset - limit))}>
        Previous page
      </button>
      <span>
        Page {page} of {pages}
      </span>
      <button type="button" className="btn" disabled={page >= pages} onClick={() => onChange(offset + limit)}>
        Next page
      </button>
    </nav>
  );
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "never";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString();
}

export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "never";
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now - t) / 1000);
  if (s < 0) return "just now";
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function formatLatency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** The message of a failed call, as an alert; nothing without an error. */
export function FormError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p role="alert" className="alert alert-error">
      {errorMessage(error)}
    </p>
  );
}

export /** The primary submit button: disabled and busy while the call runs. */
function SubmitButton({
  pending,
  busyLabel = "Saving…",
  disabled = false,
  children,
}: {
  pending: boolean;
  busyLabel?: string;
  disabled?: boolean;
  children: ReactNode;
}) {
  return (
    <button type="submit" className="btn btn-primary" disabled={pending || disabled} aria-busy={pending}>
      {pending ? busyLabel : children}
    </button>
  );
}

/** A region named by its h2 heading; a card unless `plain` (`className` replaces "card"). */
export function Section({
  title,
  className = "card",
  plain = false,
  children,
}: {
  title: string;
  className?: string;
  plain?: boolean;
  children: ReactNode;
}) {
  const id = useId();
  return (
    <section className={plain ? undefined : className} aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

/** A labelled form control with an optional hint and error, both linked by aria-describedby
 *  (kept out of the label, so the accessible name is the label alone). */
export function Field({
  label,
  error,
  hint,
  children,
}: {
  label: string;
  error?: string | undefined;
  hint?: string | undefined;
  children: ReactElement<{ id?: string; "aria-describedby"?: string; "aria-invalid"?: boolean }>;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errId = `${id}-error`;
  const describedBy = [hint ? hintId : null, error ? errId : null].filter(Boolean).join(" ") || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {cloneElement(children, { id, "aria-describedby": describedBy, "aria-invalid": error ? true : undefined })}
      {hint ? (
        <span id={hintId} className="muted small">
          {hint}
        </span>
      ) : null}
      {error ? (
        <span id={errId} className="field-error">
          {error}
        </span>
      ) : null}
    </div>
  );
}
