import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { getToken, setToken } from "../api/client";
import { loginPath, safeNext } from "../auth/AuthContext";
import { fakeApi, renderApp, user } from "./util";

describe("login", () => {
  it("sends an anonymous visitor to the login page and back after signing in", async () => {
    let signedIn = false;
    const fake = fakeApi({
      "GET /api/v1/auth/me": () => (signedIn ? { body: user() } : { status: 401, body: { error: "authentication required" } }),
      "POST /api/v1/auth/login": (req) => {
        const b = JSON.parse(req.body ?? "{}") as { username: string; password: string };
        if (b.password !== "Right-Pass-1!") return { status: 401, body: { error: "invalid credentials" } };
        signedIn = true;
        return { body: { token: "tok-123", user: user() } };
      },
      "GET /api/v1/capabilities": { body: { total: 0, items: [] } },
    });
    const ue = userEvent.setup();
    const { location } = renderApp("/capabilities?kind=mcp.tool");
    await waitFor(() => expect(location()).toBe("/login?next=%2Fcapabilities%3Fkind%3Dmcp.tool"));
    expect(screen.getByRole("heading", { name: "AgentLens" })).toBeInTheDocument();

    await ue.type(screen.getByLabelText("Username"), "admin");
    await ue.type(screen.getByLabelText("Password"), "wrong");
    await ue.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("invalid credentials");
    expect(location()).toMatch(/^\/login/);

    await ue.clear(screen.getByLabelText("Password"));
    await ue.type(screen.getByLabelText("Password"), "Right-Pass-1!");
    await ue.click(screen.getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(location()).toBe("/capabilities?kind=mcp.tool"));
    expect(await screen.findByRole("heading", { name: "Capabilities" })).toBeInTheDocument();
    expect(getToken()).toBe("tok-123");
    // Later calls carry the token.
    const caps = fake.find("GET", "/api/v1/capabilities").at(-1)!;
    expect(caps.headers.Authorization).toBe("Bearer tok-123");
  });

  it("shows the server's message for a locked account", async () => {
    fakeApi({
      "GET /api/v1/auth/me": { status: 401, body: { error: "authentication required" } },
      "POST /api/v1/auth/login": { status: 423, body: { error: "account is locked, try again later" } },
    });
    const ue = userEvent.setup();
    renderApp("/login");
    await ue.type(await screen.findByLabelText("Username"), "admin");
    await ue.type(screen.getByLabelText("Password"), "x");
    await ue.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("account is locked, try again later");
  });

  it("asks for both fields before calling the server", async () => {
    const fake = fakeApi({ "GET /api/v1/auth/me": { status: 401, body: { error: "authentication required" } } });
    const ue = userEvent.setup();
    renderApp("/login");
    await ue.click(await screen.findByRole("button", { name: "Sign in" }));
    expect(screen.getByRole("alert")).toHaveTextContent("Enter your username and password.");
    expect(fake.find("POST", "/api/v1/auth/login")).toHaveLength(0);
  });

  it("a 401 on any call sends the user to login and back to the same view", async () => {
    setToken("old-token");
    let expired = true;
    fakeApi({
      "GET /api/v1/auth/me": { body: user() },
      "GET /api/v1/stats": { body: { total: 0, by_status: {}, by_source: {} } },
      "GET /api/v1/catalog": () =>
        expired ? { status: 401, body: { error: "invalid or expired token" } } : { body: [], headers: { "X-Total-Count": "0" } },
      "POST /api/v1/auth/login": () => {
        expired = false;
        return { body: { token: "new-token", user: user() } };
      },
    });
    const ue = userEvent.setup();
    const { location } = renderApp("/?protocol=a2a&page=2");
    await waitFor(() => expect(location()).toBe("/login?next=%2F%3Fprotocol%3Da2a%26page%3D2"));
    expect(await screen.findByText("Your session has ended. Sign in again to continue.")).toBeInTheDocument();
    expect(getToken()).toBeNull();
    await ue.type(screen.getByLabelText("Username"), "admin");
    await ue.type(screen.getByLabelText("Password"), "Right-Pass-1!");
    await ue.click(screen.getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(location()).toBe("/?protocol=a2a&page=2"));
    expect(await screen.findByRole("heading", { name: "Catalog" })).toBeInTheDocument();
  });

  it("signs out", async () => {
    setToken("tok");
    const fake = fakeApi({
      "GET /api/v1/auth/me": { body: user() },
      "GET /api/v1/capabilities": { body: { total: 0, items: [] } },
      "POST /api/v1/auth/logout": { body: { message: "logged out" } },
    });
    const ue = userEvent.setup();
    const { location } = renderApp("/capabilities");
    await ue.click(await screen.findByRole("button", { name: "Sign out" }));
    await waitFor(() => expect(location()).toBe("/login"));
    expect(fake.find("POST", "/api/v1/auth/logout")).toHaveLength(1);
    expect(await screen.findByText("You have signed out.")).toBeInTheDocument();
    expect(getToken()).toBeNull();
  });

  it("only returns to paths of this app", () => {
    expect(safeNext("/catalog/1?tab=card")).toBe("/catalog/1?tab=card");
    expect(safeNext("https://evil.example")).toBe("/");
    expect(safeNext("//evil.example/x")).toBe("/");
    expect(safeNext("/login?next=/x")).toBe("/");
    expect(safeNext(null)).toBe("/");
    expect(loginPath("/", "")).toBe("/login");
    expect(loginPath("/settings/users", "")).toBe("/login?next=%2Fsettings%2Fusers");
  });
});

function jwt(claims: Record<string, number>): string {
  const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return `${b64({ alg: "HS256" })}.${b64(claims)}.sig`;
}

describe("token refresh", () => {
  it("trades a token past half its lifetime for a new one", async () => {
    const now = Math.floor(Date.now() / 1000);
    setToken(jwt({ iat: now - 20 * 3600, exp: now + 4 * 3600 }));
    const fake = fakeApi({
      "GET /api/v1/auth/me": { body: user() },
      "GET /api/v1/capabilities": { body: { total: 0, items: [] } },
      "POST /api/v1/auth/refresh": { body: { token: "renewed" } },
    });
    renderApp("/capabilities");
    await waitFor(() => expect(getToken()).toBe("renewed"));
    expect(fake.find("POST", "/api/v1/auth/refresh")).toHaveLength(1);
  });

  it("leaves a young token alone", async () => {
    const now = Math.floor(Date.now() / 1000);
    const young = jwt({ iat: now - 60, exp: now + 24 * 3600 });
    setToken(young);
    const fake = fakeApi({
      "GET /api/v1/auth/me": { body: user() },
      "GET /api/v1/capabilities": { body: { total: 0, items: [] } },
    });
    renderApp("/capabilities");
    await screen.findByRole("heading", { name: "Capabilities" });
    expect(fake.find("POST", "/api/v1/auth/refresh")).toHaveLength(0);
    expect(getToken()).toBe(young);
  });
});
