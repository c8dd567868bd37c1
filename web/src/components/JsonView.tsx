// JSON with syntax highlighting (no library): pretty-printed when it parses, shown as is if not.
import { useMemo, type ReactNode } from "react";

const TOKEN = /("(?:\\u[0-9a-fA-F]{4}|\\[^u]|[^\\"])*"(\s*:)?|\b(?:true|false|null)\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

export function prettyJson(text: string): { text: string; parsed: boolean } {
  try {
    return { text: JSON.stringify(JSON.parse(text), null, 2), parsed: true };
  } catch {
    return { text, parsed: false };
  }
}

export function highlight(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  let i = 0;
  for (const m of text.matchAll(TOKEN)) {
    const at = m.index ?? 0;
    if (at > last) out.push(text.slice(last, at));
    const tok = m[0];
    let cls = "n";
    if (tok.startsWith('"')) cls = m[2] ? "k" : "s";
    else if (tok === "true" || tok === "false" || tok === "null") cls = "l";
    out.push(
      <span key={i++} className={cls}>
        {tok}
      </span>,
    );
    last = at + tok.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export function JsonView({ value, text, label }: { value?: unknown; text?: string; label: string }) {
  const shown = useMemo(() => {
    if (text !== undefined) return prettyJson(text).text;
    return JSON.stringify(value, null, 2) ?? "";
  }, [value, text]);
  // Very large documents: colour only the first 200 KB (the rest stays plain text).
  const nodes = useMemo(() => {
    const limit = 200_000;
    if (shown.length <= limit) return highlight(shown);
    return [...highlight(shown.slice(0, limit)), shown.slice(limit)];
  }, [shown]);
  return (
    <pre className="json" tabIndex={0} aria-label={label}>
      <code>{nodes}</code>
    </pre>
  );
}
