// Register an agent: paste or upload a card (validated live by the server), import it from a
// URL, or enter the endpoint by hand.
import { useEffect, useId, useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { errorMessage, problemsOf } from "../api/client";
import { useCreateEntry, useImport, useRegister, validateCard } from "../api/hooks";
import type { CatalogEntry, FieldProblem, ValidationResult } from "../api/types";
import { Dialog } from "../components/Dialog";
import { Spinner } from "../components/Spinner";
import { useToast } from "../components/Toast";
import { Field, FormError, SubmitButton, Tabs } from "../components/ui";
import { useDebounced } from "../lib/hooks";

type Check =
  | { state: "empty" }
  | { state: "checking" }
  | { state: "json-error"; message: string }
  | { state: "done"; result: ValidationResult }
  | { state: "failed"; message: string };

/** Parse locally first (instant feedback), then ask the server's validator. */
export function useLiveValidation(text: string, protocol: string, delay = 400): Check {
  const debounced = useDebounced(text, delay);
  const [check, setCheck] = useState<Check>({ state: "empty" });
  useEffect(() => {
    if (!debounced.trim()) {
      setCheck({ state: "empty" });
      return;
    }
    try {
      JSON.parse(debounced);
    } catch (e) {
      setCheck({ state: "json-error", message: e instanceof Error ? e.message : String(e) });
      return;
    }
    const ctl = new AbortController();
    setCheck({ state: "checking" });
    validateCard(debounced, protocol, ctl.signal)
      .then((result) => setCheck({ state: "done", result }))
      .catch((e: unknown) => {
        if (ctl.signal.aborted) return;
        setCheck({ state: "failed", message: errorMessage(e) });
      });
    return () => ctl.abort();
  }, [debounced, protocol]);
  // While the user is still typing, the last answer is stale.
  if (text !== debounced && text.trim()) return { state: "checking" };
  return check;
}

function ProblemList({ problems, title }: { problems: Array<FieldProblem | string>; title: string }) {
  if (problems.length === 0) return null;
  return (
    <div>
      <h3 className="h4">{title}</h3>
      <ul className="problems">
        {problems.map((p, i) =>
          typeof p === "string" ? (
            <li key={i}>{p}</li>
          ) : (
            <li key={i}>
              {p.field ? <code>{p.field}</code> : null} {p.message}
            </li>
          ),
        )}
      </ul>
    </div>
  );
}

// Known preview keys in display order; any other key follows, labelled from its name.
const PREVIEW_LABELS: Array<[string, string]> = [
  ["display_name", "Name"],
  ["description", "Description"],
  ["protocol", "Protocol"],
  ["spec_version", "Spec version"],
  ["protocol_versions", "Protocol versions"],
  ["version", "Version"],
  ["endpoint", "Endpoint"],
  ["provider", "Provider"],
  ["skills_count", "Skills"],
  ["tools_count", "Tools"],
  ["resources_count", "Resources"],
  ["prompts_count", "Prompts"],
  ["interfaces", "Interfaces"],
  ["security_schemes", "Security schemes"],
  ["extensions_count", "Extensions"],
  ["signatures_count", "Signatures"],
  ["dual_format", "Dual format"],
];

export function previewValue(v: unknown): string {
  if (v === null || v === undefined || v === "") return "—";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (Array.isArray(v)) return v.map(previewValue).join(", ") || "—";
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    const main = o.organization ?? o.name ?? o.display_name;
    const rest = Object.entries(o)
      .filter(([k, x]) => x !== null && x !== undefined && x !== "" && x !== main && k !== "organization" && k !== "name")
      .map(([k, x]) => `${k.replace(/_/g, " ")}: ${previewValue(x)}`);
    return [main === undefined ? null : previewValue(main), ...rest].filter(Boolean).join(" · ") || "—";
  }
  return String(v);
}

function Preview({ preview }: { preview: Record<string, unknown> }) {
  const known = new Map(PREVIEW_LABELS);
  const keys = [
    ...PREVIEW_LABELS.map(([k]) => k).filter((k) => k in preview),
    ...Object.keys(preview)
      .filter((k) => !known.has(k))
      .sort(),
  ];
  return (
    <section aria-label="Card preview" className="preview">
      <h3 className="h4">Preview</h3>
      <dl className="kv">
        {keys.map((k) => (
          <div key={k}>
            <dt>{known.get(k) ?? k.charAt(0).toUpperCase() + k.slice(1).replace(/_/g, " ")}</dt>
            <dd>{previewValue(preview[k])}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function ValidationView({ check }: { check: Check }) {
  switch (check.state) {
    case "empty":
      return <p className="muted">Paste a card to check it.</p>;
    case "checking":
      return <Spinner inline label="Validating" />;
    case "json-error":
      return (
        <div className="validation invalid">
          <p>Not valid JSON: {check.message}</p>
        </div>
      );
    case "failed":
      return (
        <div className="validation invalid">
          <p>Validation failed: {check.message}</p>
        </div>
      );
    case "done": {
      const r = check.result;
      return (
        <div className={r.valid ? "validation valid" : "validation invalid"}>
          <p>
            {r.valid ? "Card is valid" : `Card is invalid (${r.errors.length} ${r.errors.length === 1 ? "error" : "errors"})`}
            {r.protocol ? ` · ${r.protocol.toUpperCase()}` : ""}
            {r.spec_version ? ` ${r.spec_version}` : ""}
          </p>
          <ProblemList problems={r.errors} title="Errors" />
          <ProblemList problems={r.warnings} title="Warnings" />
          {r.valid && r.preview ? <Preview preview={r.preview} /> : null}
        </div>
      );
    }
  }
}

function ProtocolChoice({ value, onChange, label = "Protocol" }: { value: string; onChange: (v: string) => void; label?: string }) {
  return (
    <label className="field">
      <span>{label}</span>
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">Auto-detect</option>
        <option value="a2a">A2A</option>
        <option value="mcp">MCP</option>
      </select>
    </label>
  );
}

function CardForm({
  text,
  setText,
  upload,
  onDone,
}: {
  text: string;
  setText: (t: string) => void;
  upload: boolean;
  onDone: (e: CatalogEntry) => void;
}) {
  const [protocol, setProtocol] = useState("");
  const [fileName, setFileName] = useState<string | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const check = useLiveValidation(text, protocol);
  const register = useRegister();
  const [refused, setRefused] = useState<ValidationResult | null>(null);
  const statusId = useId();

  const readFile = (file: File | undefined) => {
    setFileError(null);
    if (!file) return;
    if (file.size > 256 * 1024) {
      setFileError(`${file.name} is larger than 256 KiB`);
      return;
    }
    const reader = new FileReader();
    reader.onload = () => {
      setFileName(file.name);
      setText(typeof reader.result === "string" ? reader.result : "");
    };
    reader.onerror = () => setFileError(`cannot read ${file.name}: ${reader.error?.message ?? "read failed"}`);
    reader.readAsText(file);
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setRefused(null);
    register.mutate(
      { text, protocol },
      {
        onSuccess: (out) => {
          if ("entry" in out) onDone(out.entry);
          else setRefused(out.invalid);
        },
      },
    );
  };
  const canSubmit = text.trim() !== "" && check.state !== "json-error" && !register.isPending;

  return (
    <form className="stack" onSubmit={submit}>
      <ProtocolChoice value={protocol} onChange={setProtocol} />
      {upload ? (
        <div
          className={dragging ? "dropzone dragging" : "dropzone"}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={(e) => {
            e.preventDefault();
            setDragging(false);
            readFile(e.dataTransfer.files[0]);
          }}
        >
          <label className="field">
            <span>Card file (JSON)</span>
            <input type="file" accept=".json,application/json" onChange={(e) => readFile(e.target.files?.[0])} />
          </label>
          <p className="muted small">or drop a file here</p>
          {fileName ? <p className="small">Loaded {fileName}</p> : null}
          {fileError ? (
            <p role="alert" className="alert alert-error">
              {fileError}
            </p>
          ) : null}
        </div>
      ) : (
        <label className="field">
          <span>Agent card JSON</span>
          <textarea
            className="code-input"
            rows={14}
            spellCheck={false}
            value={text}
            onChange={(e) => setText(e.target.value)}
            aria-describedby={statusId}
            placeholder='{"name": "My agent", "url": "https://…", "skills": [...]}'
          />
        </label>
      )}
      <div id={statusId} aria-live="polite" className="validation-area">
        {upload && !text ? <p className="muted">Choose a file to check it.</p> : <ValidationView check={check} />}
      </div>
      {refused ? (
        <div role="alert" className="alert alert-error">
          <p>The server refused the card.</p>
          <ProblemList problems={refused.errors} title="Errors" />
        </div>
      ) : null}
      <FormError error={register.error} />
      <div className="row end">
        <SubmitButton pending={register.isPending} busyLabel="Registering…" disabled={!canSubmit}>
          Register agent
        </SubmitButton>
      </div>
    </form>
  );
}

function ImportForm({ onDone }: { onDone: (e: CatalogEntry) => void }) {
  const [url, setUrl] = useState("");
  const [protocol, setProtocol] = useState("");
  const imp = useImport();
  // Field problems add to the message only when they say more than it does.
  const message = imp.isError ? errorMessage(imp.error) : "";
  const problems = problemsOf(imp.error).filter((p) => !message.includes(p.message));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    imp.mutate({ url: url.trim(), protocol }, { onSuccess: onDone });
  };
  return (
    <form className="stack" onSubmit={submit} noValidate>
      <label className="field">
        <span>Card URL</span>
        <input
          type="url"
          required
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          placeholder="https://agent.example.com/.well-known/agent-card.json"
        />
      </label>
      <ProtocolChoice value={protocol} onChange={setProtocol} />
      {imp.isPending ? <Spinner inline label="Fetching the card" /> : null}
      {imp.isError ? (
        <div role="alert" className="alert alert-error">
          <p>{message}</p>
          <ProblemList problems={problems} title="Errors" />
        </div>
      ) : null}
      <div className="row end">
        <SubmitButton pending={imp.isPending} busyLabel="Importing…" disabled={!url.trim()}>
          Fetch and import
        </SubmitButton>
      </div>
    </form>
  );
}

function ManualForm({ onDone }: { onDone: (e: CatalogEntry) => void }) {
  const [v, setV] = useState({ display_name: "", protocol: "a2a", endpoint: "", description: "", version: "" });
  const create = useCreateEntry();
  const problems = problemsOf(create.error);
  const fieldError = (f: string) => problems.filter((p) => p.field === f).map((p) => p.message);
  const set = (k: keyof typeof v) => (e: { target: { value: string } }) => setV({ ...v, [k]: e.target.value });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body: Record<string, string> = { display_name: v.display_name.trim(), protocol: v.protocol, endpoint: v.endpoint.trim() };
    if (v.description.trim()) body.description = v.description.trim();
    if (v.version.trim()) body.version = v.version.trim();
    create.mutate(body, { onSuccess: onDone });
  };
  const text = (k: "display_name" | "endpoint" | "description" | "version", label: string, required = false) => {
    const errs = fieldError(k);
    return (
      <Field label={`${label}${required ? " (required)" : ""}`} error={errs.join("; ") || undefined}>
        <input value={v[k]} onChange={set(k)} required={required} />
      </Field>
    );
  };
  // The server checks the fields and names what is wrong (noValidate: its messages are shown).
  return (
    <form className="stack" onSubmit={submit} noValidate>
      {text("display_name", "Name", true)}
      <label className="field">
        <span>Protocol</span>
        <select value={v.protocol} onChange={set("protocol")}>
          <option value="a2a">A2A</option>
          <option value="mcp">MCP</option>
          <option value="a2ui">A2UI</option>
        </select>
      </label>
      {text("endpoint", "Endpoint", true)}
      {text("description", "Description")}
      {text("version", "Version")}
      <FormError error={create.error} />
      <div className="row end">
        <SubmitButton pending={create.isPending} busyLabel="Creating…">
          Create entry
        </SubmitButton>
      </div>
    </form>
  );
}

const TABS = [
  { id: "paste", label: "Paste card" },
  { id: "upload", label: "Upload file" },
  { id: "url", label: "Import from URL" },
  { id: "manual", label: "Enter manually" },
];

export default function RegisterDialog({ onClose, initialTab = "paste" }: { onClose: () => void; initialTab?: string }) {
  const [tab, setTab] = useState(initialTab);
  const [text, setText] = useState("");
  const toast = useToast();
  const navigate = useNavigate();
  const done = (e: CatalogEntry) => {
    toast.success(`Registered ${e.display_name}`);
    onClose();
    navigate(`/catalog/${encodeURIComponent(e.id)}`);
  };
  return (
    <Dialog title="Register agent" onClose={onClose} wide>
      <Tabs tabs={TABS} active={tab} onChange={setTab} label="How to register">
        {tab === "paste" ? <CardForm key="paste" text={text} setText={setText} upload={false} onDone={done} /> : null}
        {tab === "upload" ? <CardForm key="upload" text={text} setText={setText} upload onDone={done} /> : null}
        {tab === "url" ? <ImportForm onDone={done} /> : null}
        {tab === "manual" ? <ManualForm onDone={done} /> : null}
      </Tabs>
    </Dialog>
  );
}
