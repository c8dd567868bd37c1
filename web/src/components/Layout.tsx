// The page frame: skip link, banner with the main navigation, the signed-in user, the theme.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { NavLink, Outlet, useLocation } from "react-router";
import { get } from "../api/client";
import type { Setting } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { ThemeSelect } from "./Theme";

/** The product name shown in the banner: the `app.name` setting when readable. */
function useAppName(canRead: boolean): string {
  const settings = useQuery({
    queryKey: ["settings"],
    enabled: canRead,
    queryFn: () => get<Setting[]>("/settings"),
    staleTime: 5 * 60_000,
  });
  const v = settings.data?.find((s) => s.key === "app.name")?.value;
  return typeof v === "string" && v.trim() ? v : "AgentLens";
}

export function Layout() {
  const { user, can, logout } = useAuth();
  const name = user?.display_name || user?.username || "";
  const appName = useAppName(can("settings:read"));
  // Narrow screens: the navigation folds behind a Menu button (CSS shows the button only there).
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  useEffect(() => setMenuOpen(false), [location.pathname]);
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/" className="brand" aria-label={`${appName} home`}>
          <svg width="22" height="22" viewBox="0 0 32 32" aria-hidden="true">
            <circle cx="14" cy="14" r="9" fill="none" stroke="currentColor" strokeWidth="4" />
            <path d="M21 21l8 8" stroke="currentColor" strokeWidth="4" strokeLinecap="round" />
          </svg>
          <span>{appName}</span>
        </NavLink>
        <button
          type="button"
          className="btn menu-btn"
          aria-expanded={menuOpen}
          aria-controls="mainnav"
          onClick={() => setMenuOpen((o) => !o)}
        >
          Menu
        </button>
        <nav aria-label="Main" id="mainnav" className={menuOpen ? "mainnav open" : "mainnav"}>
          <NavLink to="/" end>
            Catalog
          </NavLink>
          <NavLink to="/capabilities">Capabilities</NavLink>
          <NavLink to="/settings">Settings</NavLink>
          {can("settings:write") ? <NavLink to="/system">System</NavLink> : null}
        </nav>
        <div className="topbar-end">
          <ThemeSelect />
          {user ? (
            <>
              <span className="user-name" title={user.role?.name ? `Role: ${user.role.name}` : undefined}>
                {name}
              </span>
              <button type="button" className="btn" onClick={() => void logout()}>
                Sign out
              </button>
            </>
          ) : null}
        </div>
      </header>
      <main id="main" tabIndex={-1} className="content">
        <Outlet />
      </main>
    </div>
  );
}
