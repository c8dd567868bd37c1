// Light / dark / system theme: follows prefers-color-scheme unless the user picks one.
import { useEffect, useState } from "react";

export type ThemeMode = "light" | "dark" | "system";
const KEY = "agentlens.theme";

export function savedTheme(): ThemeMode {
  try {
    const t = localStorage.getItem(KEY);
    return t === "light" || t === "dark" ? t : "system";
  } catch {
    return "system";
  }
}

export function applyTheme(mode: ThemeMode): void {
  const root = document.documentElement;
  if (mode === "system") delete root.dataset.theme;
  else root.dataset.theme = mode;
  try {
    if (mode === "system") localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, mode);
  } catch {
    /* not persisted */
  }
}

export function ThemeSelect() {
  const [mode, setMode] = useState<ThemeMode>(savedTheme);
  useEffect(() => applyTheme(mode), [mode]);
  return (
    <label className="theme-select">
      <span className="visually-hidden">Colour theme</span>
      <select value={mode} onChange={(e) => setMode(e.target.value as ThemeMode)}>
        <option value="system">System theme</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  );
}
