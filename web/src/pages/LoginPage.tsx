import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { Navigate, useLocation, useNavigate, useSearchParams } from "react-router";
import { errorMessage } from "../api/client";
import { safeNext, useAuth } from "../auth/AuthContext";
import { ThemeSelect } from "../components/Theme";
import { SubmitButton } from "../components/ui";

interface LoginState {
  expired?: boolean;
  loggedOut?: boolean;
  message?: string;
}

export function LoginPage() {
  const { user, login, loading } = useAuth();
  const [params] = useSearchParams();
  const location = useLocation();
  const navigate = useNavigate();
  const next = safeNext(params.get("next"));
  const state = (location.state ?? {}) as LoginState;
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const errorId = useId();
  const userRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = "Sign in · AgentLens";
  }, []);

  if (!loading && user && !busy) return <Navigate to={next} replace />;

  const notice = state.message
    ? state.message
    : state.expired
      ? "Your session has ended. Sign in again to continue."
      : state.loggedOut
        ? "You have signed out."
        : null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!username || !password) {
      setError("Enter your username and password.");
      (username ? null : userRef.current)?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await login(username, password);
      navigate(next, { replace: true });
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  return (
    <main id="main" className="login-page">
      <div className="login-theme">
        <ThemeSelect />
      </div>
      <form className="login-card stack" onSubmit={submit} noValidate aria-describedby={error ? errorId : undefined}>
        <h1>AgentLens</h1>
        <p className="muted">Sign in to the agent catalog</p>
        {notice ? (
          <p role="status" className="alert alert-info">
            {notice}
          </p>
        ) : null}
        <label className="field">
          <span>Username</span>
          <input
            ref={userRef}
            name="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            autoFocus
            required
          />
        </label>
        <label className="field">
          <span>Password</span>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {error ? (
          <p id={errorId} role="alert" className="alert alert-error">
            {error}
          </p>
        ) : null}
        <SubmitButton pending={busy} busyLabel="Signing in…">
          Sign in
        </SubmitButton>
      </form>
    </main>
  );
}
