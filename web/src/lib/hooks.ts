import { useEffect, useRef, useState } from "react";

/** The value, once it has stopped changing for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = window.setTimeout(() => setV(value), ms);
    return () => window.clearTimeout(t);
  }, [value, ms]);
  return v;
}

/** A text filter that writes to the URL once typing pauses: `commit` gets the paused text. */
export function useDebouncedField(urlValue: string, commit: (v: string) => void, ms = 300) {
  const [text, setText] = useState(urlValue);
  const debounced = useDebounced(text, ms);
  // Follow the URL (back button, "Clear filters").
  useEffect(() => setText(urlValue), [urlValue]);
  useEffect(() => {
    if (debounced !== urlValue) commit(debounced);
    // only when the debounced text changes
  }, [debounced]);
  return [text, setText] as const;
}

function typingTarget(t: EventTarget | null): boolean {
  if (!(t instanceof HTMLElement)) return false;
  const tag = t.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || t.isContentEditable;
}

/** `/` (outside text fields and dialogs) focuses the element: the search shortcut. */
export function useSlashFocus<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey || typingTarget(e.target)) return;
      if (document.querySelector('[role="dialog"]')) return;
      e.preventDefault();
      ref.current?.focus();
      if (ref.current instanceof HTMLInputElement) ref.current.select();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);
  return ref;
}

export function usePageTitle(title: string) {
  useEffect(() => {
    document.title = title ? `${title} · AgentLens` : "AgentLens";
  }, [title]);
}
