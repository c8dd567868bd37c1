import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { getToken } from "../api/client";
import type { Setting, User } from "../api/types";
import { ALL_PERMISSIONS, fakeApi, renderApp, role, user, viewer } from "./util";

const settings: Setting[] = [
  { key: "app.name", category: "general", type: "string", value: "AgentLens", description: "Product name" },
  { key: "ui.items_per_page", category: "ui", type: "integer", value: 25, min: 5, max: 500, description: "Rows" },
  { key: "health.check_enabled", category: "health", type: "boolean", value: true, description: "Probe" },
];

const roles = [role("admin", ALL_PERMISSIONS), role("viewer", ["catalog:read"]), { ...role("ops", ["catalog:read"]), id: "r-ops", is_system: false }];
const permissions = ALL_PERMISSIONS.map((name) => ({ name, description: `allows ${name}` }));

function api(me: User, extra: Parameters<typeof fakeApi>[0] = {}) {
  return fakeApi({
    "GET /api/v1/auth/me": { body: me },
    "GET /api/v1/settings": { body: settings },
    "GET /api/v1/users": { body: [me], headers: { "X-Total-Count": "1" } },
    "GET /api/v1/roles": { body: roles, headers: { "X-Total-Count": String(roles.length) } },
    "GET /api/v1/permissions": { body: permissions },
    ...extra,
  });
}

describe("settings", () => {
  it("saves only the changed settings, typed", async () => {
    const fake = api(user(), { "PUT /api/v1/settings": { body: { message: "settings updated" } } });
    const ue = userEvent.setup();
    renderApp("/settings/general");
    const rows = await screen.findByLabelText(/Items per page/);
    await ue.clear(rows);
    await ue.type(rows, "50");
    await ue.selectOptions(screen.getByLabelText(/Check enabled/), "false");
    await ue.click(screen.getByRole("button", { name: "Save settings" }));
    await waitFor(() => expect(fake.find("PUT", "/api/v1/settings")).toHaveLength(1));
    expect(JSON.parse(fake.find("PUT", "/api/v1/settings")[0]!.body!)).toEqual({
      "ui.items_per_page": 50,
      "health.check_enabled": false,
    });
    expect(await screen.findByText("Settings saved")).toBeInTheDocument();
  });

  it("shows a refused setting next to its field", async () => {
    api(user(), {
      "PUT /api/v1/settings": {
        status: 400,
        body: { error: "invalid settings", details: [{ field: "ui.items_per_page", message: "must be at most 500" }] },
      },
    });
    const ue = userEvent.setup();
    renderApp("/settings/general");
    const rows = await screen.findByLabelText(/Items per page/);
    await ue.clear(rows);
    await ue.type(rows, "9000");
    await ue.click(screen.getByRole("button", { name: "Save settings" }));
    expect(await screen.findByText("must be at most 500")).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("invalid settings");
  });

  it("is read-only for a viewer, who sees no write buttons", async () => {
    api(viewer());
    const ue = userEvent.setup();
    renderApp("/settings/general");
    expect(await screen.findByLabelText(/Items per page/)).toBeDisabled();
    expect(screen.queryByRole("button", { name: "Save settings" })).toBeNull();
    await ue.click(screen.getByRole("tab", { name: "Users" }));
    expect((await screen.findAllByRole("cell", { name: "vera" })).length).toBeGreaterThan(0);
    expect(screen.queryByRole("button", { name: "Add user" })).toBeNull();
    expect(screen.queryByRole("button", { name: /^Delete/ })).toBeNull();
    await ue.click(screen.getByRole("tab", { name: "Roles" }));
    await screen.findByRole("heading", { name: "Roles" });
    expect(screen.queryByRole("button", { name: "Add role" })).toBeNull();
  });

  it("offers only the tabs the user may see", async () => {
    api(user("cat", ["catalog:read"]));
    const { location } = renderApp("/settings/users");
    await waitFor(() => expect(location()).toBe("/settings/account"));
    const tabs = screen.getAllByRole("tab").map((t) => t.textContent);
    expect(tabs).toEqual(["My account"]);
  });

  it("creates a role with the permissions picked", async () => {
    const fake = api(user(), { "POST /api/v1/roles": { status: 201, body: { ...role("auditor", []), id: "r-aud" } } });
    const ue = userEvent.setup();
    renderApp("/settings/roles");
    await ue.click(await screen.findByRole("button", { name: "Add role" }));
    const dialog = screen.getByRole("dialog", { name: "Add role" });
    await ue.type(within(dialog).getByLabelText("Role name"), "auditor");
    await ue.click(await within(dialog).findByRole("checkbox", { name: /catalog:read/ }));
    await ue.click(within(dialog).getByRole("checkbox", { name: /users:read/ }));
    await ue.click(within(dialog).getByRole("checkbox", { name: /catalog:read/ }));
    await ue.click(within(dialog).getByRole("checkbox", { name: /roles:read/ }));
    await ue.click(within(dialog).getByRole("button", { name: "Create role" }));
    await waitFor(() => expect(fake.find("POST", "/api/v1/roles")).toHaveLength(1));
    expect(JSON.parse(fake.find("POST", "/api/v1/roles")[0]!.body!)).toEqual({
      name: "auditor",
      description: "",
      permissions: ["users:read", "roles:read"],
    });
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
  });

  it("does not offer to edit system roles", async () => {
    api(user());
    renderApp("/settings/roles");
    expect(await screen.findByRole("button", { name: "Edit role ops" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Edit role admin" })).toBeNull();
  });

  it("shows the server's field errors when creating a user", async () => {
    api(user(), {
      "POST /api/v1/users": {
        status: 400,
        body: { error: "password must contain a digit", details: [{ field: "password", message: "password must contain a digit" }] },
      },
    });
    const ue = userEvent.setup();
    renderApp("/settings/users");
    await ue.click(await screen.findByRole("button", { name: "Add user" }));
    const dialog = screen.getByRole("dialog", { name: "Add user" });
    await ue.type(within(dialog).getByLabelText("Username"), "vera");
    await ue.type(within(dialog).getByLabelText(/^Password/), "weakpassword");
    expect(within(dialog).getByLabelText("Role")).toHaveValue("role-viewer");
    await ue.click(within(dialog).getByRole("button", { name: "Create user" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("password must contain a digit");
    expect(within(dialog).getAllByText("password must contain a digit")).toHaveLength(2);
  });

  it("changes the password and signs in again with it, keeping the user on the page", async () => {
    const fake = api(user(), {
      "PUT /api/v1/auth/password": { body: { message: "password changed" } },
      "POST /api/v1/auth/login": (req) => {
        const b = JSON.parse(req.body ?? "{}") as { username: string; password: string };
        return b.password === "New-Pass-456!" ? { body: { token: "fresh", user: user() } } : { status: 401, body: { error: "invalid credentials" } };
      },
    });
    const ue = userEvent.setup();
    const { location } = renderApp("/settings/account");
    await ue.type(await screen.findByLabelText("Current password"), "Old-Pass-123!");
    await ue.type(screen.getByLabelText(/^New password/), "New-Pass-456!");
    await ue.type(screen.getByLabelText("Confirm new password"), "New-Pass-457!");
    await ue.click(screen.getByRole("button", { name: "Change password" }));
    expect(screen.getByText("The passwords do not match.")).toBeInTheDocument();
    expect(fake.find("PUT", "/api/v1/auth/password")).toHaveLength(0);
    await ue.clear(screen.getByLabelText("Confirm new password"));
    await ue.type(screen.getByLabelText("Confirm new password"), "New-Pass-456!");
    await ue.click(screen.getByRole("button", { name: "Change password" }));
    expect(await screen.findByText("Password changed. Your other sessions were signed out.")).toBeInTheDocument();
    expect(JSON.parse(fake.find("PUT", "/api/v1/auth/password")[0]!.body!)).toEqual({
      current_password: "Old-Pass-123!",
      new_password: "New-Pass-456!",
    });
    expect(JSON.parse(fake.find("POST", "/api/v1/auth/login")[0]!.body!)).toEqual({ username: "admin", password: "New-Pass-456!" });
    expect(getToken()).toBe("fresh");
    expect(location()).toBe("/settings/account");
    expect(screen.getByLabelText("Current password")).toHaveValue("");
  });

  it("asks to sign in again when the new session cannot be opened", async () => {
    api(user(), {
      "PUT /api/v1/auth/password": { body: { message: "password changed" } },
      "POST /api/v1/auth/login": { status: 423, body: { error: "account is locked, try again later" } },
    });
    const ue = userEvent.setup();
    const { location } = renderApp("/settings/account");
    await ue.type(await screen.findByLabelText("Current password"), "Old-Pass-123!");
    await ue.type(screen.getByLabelText(/^New password/), "New-Pass-456!");
    await ue.type(screen.getByLabelText("Confirm new password"), "New-Pass-456!");
    await ue.click(screen.getByRole("button", { name: "Change password" }));
    await waitFor(() => expect(location()).toBe("/login"));
    expect(await screen.findByText("Password changed. Sign in with your new password.")).toBeInTheDocument();
  });

  it("shows a wrong current password as the server words it", async () => {
    api(user(), { "PUT /api/v1/auth/password": { status: 401, body: { error: "current password is incorrect" } } });
    const ue = userEvent.setup();
    const { location } = renderApp("/settings/account");
    await ue.type(await screen.findByLabelText("Current password"), "nope");
    await ue.type(screen.getByLabelText(/^New password/), "New-Pass-456!");
    await ue.type(screen.getByLabelText("Confirm new password"), "New-Pass-456!");
    await ue.click(screen.getByRole("button", { name: "Change password" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("current password is incorrect");
    expect(location()).toBe("/settings/account");
  });
});

describe("banner", () => {
  it("shows the product name from the app.name setting", async () => {
    api(user(), {
      "GET /api/v1/settings": { body: [{ ...settings[0]!, value: "Acme Agent Hub" }, ...settings.slice(1)] },
    });
    renderApp("/settings/account");
    expect(await screen.findByRole("link", { name: "Acme Agent Hub home" })).toBeInTheDocument();
  });
});

describe("system status", () => {
  it("shows the Lua generation and the last reload error", async () => {
    api(user(), {
      "GET /api/v1/system": {
        body: {
          version: "0.1.0",
          generation: { id: 7, origin: "disk", modules: 43, routes: 38, scripts: 2, created_at: "2026-01-01T00:00:00Z" },
          last_reload_error: { message: "rules.lua:3: unexpected symbol", file: "rules.lua", line: 3, at: "2026-01-01T00:01:00Z" },
        },
      },
    });
    renderApp("/system");
    expect(await screen.findByRole("heading", { name: "System status" })).toBeInTheDocument();
    expect(await screen.findByText("rules.lua:3: unexpected symbol")).toBeInTheDocument();
    expect(screen.getByText("Lua generation").nextSibling).toHaveTextContent("7");
    expect(screen.getByText("rules.lua:3")).toBeInTheDocument();
  });

  it("is not offered to users without settings:write", async () => {
    api(viewer());
    renderApp("/settings/account");
    await screen.findByRole("heading", { name: "Settings" });
    expect(screen.queryByRole("link", { name: "System" })).toBeNull();
  });
});

describe("users", () => {
  it("disables another account with one click and shows the server's refusal", async () => {
    const other: User = { ...viewer(), id: "u2", username: "otto" };
    const fake = api(user(), {
      "GET /api/v1/users": { body: [user(), other], headers: { "X-Total-Count": "2" } },
      "PUT /api/v1/users/u2": {
        status: 409,
        body: { error: "cannot disable or demote the last active administrator: another active user must hold every permission first" },
      },
    });
    const ue = userEvent.setup();
    renderApp("/settings/users");
    expect(await screen.findByRole("button", { name: "Disable otto" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Disable admin" })).toBeNull();
    await ue.click(screen.getByRole("button", { name: "Disable otto" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("cannot disable or demote the last active administrator");
    expect(JSON.parse(fake.find("PUT", "/api/v1/users/u2")[0]!.body!)).toEqual({ is_active: false });
  });
});
