// Who is signed in, what they may do, and the 401 → login → back round trip.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, type ReactNode } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Navigate, useLocation, useNavigate } from "react-router";
import { ApiError, getToken, onUnauthorized, request, setToken, tokenTimes } from "../api/client";
import type { User } from "../api/types";
import { Spinner } from "../components/Spinner";

export interface AuthState {
  user: User | null;
  loading: boolean;
  can: (permission: string) => boolean;
  login: (username: string, password: string) => Promise<User>;
  logout: () => Promise<void>;
  /** Whether the last sign-out was a 401 (the session ended), not the user's choice. */
  sessionExpired: () => boolean;
  /** After a password change the server ends every session: forget the local one too. */
  sessionEnded: (message: string) => void;
}

const AuthContext = createContext<AuthState | null>(null);

export const ME_KEY = ["me"] as const;
const REFRESH_CHECK_MS = 5 * 60_000;

async function fetchMe(): Promise<User | null> {
  try {
    return (await request<User>("/auth/me", { noAuthRedirect: true })).data;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      setToken(null);
      return null;
    }
    throw e;
  }
}

/** Where to come back to after signing in: only paths of this app. */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/login")) return "/";
  return next;
}

export function loginPath(pathname: string, search: string): string {
  const here = pathname + search;
  return here === "/" || here.startsWith("/login") ? "/login" : `/login?next=${encodeURIComponent(here)}`;
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const location = useLocation();
  const me = useQuery({ queryKey: ME_KEY, queryFn: fetchMe, retry: false, staleTime: 60_000 });

  // Any 401 from the API: the session is gone. Forget the user; RequireAuth then sends the
  // browser to the login page (with the way back), saying that the session ended.
  const expired = useRef(false);
  useEffect(() => {
    return onUnauthorized(() => {
      if (qc.getQueryData(ME_KEY)) expired.current = true;
      qc.setQueryData(ME_KEY, null);
    });
  }, [qc]);

  // Keep a long-open tab signed in: past half of its lifetime, trade the token for a new one
  // (same session; the server refuses beyond the session's absolute end, and the 401 then
  // leads to the login page).
  const userId = me.data?.id;
  useEffect(() => {
    if (!userId) return;
    const check = () => {
      const t = getToken();
      const times = t ? tokenTimes(t) : null;
      if (!times || Date.now() / 1000 < times.iat + (times.exp - times.iat) / 2) return;
      request<{ token: string }>("/auth/refresh", { method: "POST" })
        .then((r) => {
          if (getToken() === t && typeof r.data?.token === "string") setToken(r.data.token);
        })
        .catch(() => {
          /* a 401 is handled by the listener; anything else: try again at the next check */
        });
    };
    check();
    const id = window.setInterval(check, REFRESH_CHECK_MS);
    return () => window.clearInterval(id);
  }, [userId]);

  const login = useCallback(
    async (username: string, password: string) => {
      const res = await request<{ token: string; user: User }>("/auth/login", {
        method: "POST",
        body: { username, password },
        noAuthRedirect: true,
      });
      setToken(res.data.token);
      expired.current = false;
      qc.removeQueries({ predicate: (q) => q.queryKey[0] !== ME_KEY[0] });
      qc.setQueryData(ME_KEY, res.data.user);
      return res.data.user;
    },
    [qc],
  );

  const forget = useCallback(() => {
    setToken(null);
    qc.clear();
    qc.setQueryData(ME_KEY, null);
  }, [qc]);

  const logout = useCallback(async () => {
    try {
      await request("/auth/logout", { method: "POST", noAuthRedirect: true });
    } finally {
      forget();
      navigate("/login", { replace: true, state: { loggedOut: true } });
    }
  }, [forget, navigate]);

  const sessionEnded = useCallback(
    (message: string) => {
      forget();
      navigate("/login", { replace: true, state: { message } });
    },
    [forget, navigate],
  );

  const user = me.data ?? null;
  const value = useMemo<AuthState>(() => {
    const perms = new Set(user?.role?.permissions ?? []);
    return {
      user,
      loading: me.isPending,
      can: (p: string) => perms.has(p),
      sessionExpired: () => expired.current,
      login,
      logout,
      sessionEnded,
    };
  }, [user, me.isPending, login, logout, sessionEnded]);

  if (me.isError && !location.pathname.startsWith("/login")) {
    // The server could not tell who we are (not a 401): say so rather than loop.
    return (
      <main className="center-page" id="main">
        <div role="alert" className="alert alert-error">
          <p>Cannot load your account: {me.error instanceof Error ? me.error.message : "unknown error"}</p>
          <button type="button" className="btn" onClick={() => void me.refetch()}>
            Retry
          </button>
        </div>
      </main>
    );
  }
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error("useAuth outside AuthProvider");
  return ctx;
}

/** Pages behind a login: wait for /auth/me, else go to the login page and come back. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { user, loading, sessionExpired } = useAuth();
  const location = useLocation();
  if (loading) return <Spinner label="Loading your account" />;
  if (!user) {
    return (
      <Navigate to={loginPath(location.pathname, location.search)} replace state={sessionExpired() ? { expired: true } : undefined} />
    );
  }
  return <>{children}</>;
}
