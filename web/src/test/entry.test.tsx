import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { CatalogEntry, User } from "../api/types";
import { entry, fakeApi, renderApp, user, viewer } from "./util";

const translation: CatalogEntry = entry(1, {
  display_name: "Translation Agent",
  capabilities: [
    { kind: "a2a.skill", name: "Translate Text", description: "Translates", tags: ["nlp"], inputModes: ["text"], outputModes: ["text"] },
    { kind: "mcp.tool", name: "lookup", description: "Looks up", input_schema: { type: "object", properties: { term: { type: "string" } } } },
  ],
  security_detail: {
    security_schemes: [{ scheme_name: "bearer", type: "http", http_scheme: "Bearer", bearer_format: "JWT" }],
    security_requirements: [{ schemes: { bearer: [] } }],
  },
});

const healthReport = {
  health: { state: "offline", lastProbedAt: "2026-01-01T10:00:00Z", lastSuccessAt: "2026-01-01T09:00:00Z", latencyMs: 40, consecutiveFailures: 3, lastError: "HTTP 503" },
  history: [
    { at: "2026-01-01T09:00:00Z", ok: true, reason: null, latencyMs: 40, status: 200 },
    { at: "2026-01-01T10:00:00Z", ok: false, reason: "HTTP 503", latencyMs: 5, status: 503 },
  ],
  uptime: { ratio: 0.5, up: 1, total: 2 },
  latency: [{ at: "2026-01-01T09:00:00Z", latencyMs: 40 }],
};

function api(me: User, extra: Record<string, Parameters<typeof fakeApi>[0][string]> = {}) {
  return fakeApi({
    "GET /api/v1/auth/me": { body: me },
    "GET /api/v1/catalog/e1": { body: translation },
    "GET /api/v1/catalog/e1/health": { body: healthReport },
    "GET /api/v1/stats": { body: { total: 0, by_status: {}, by_source: {} } },
    "GET /api/v1/catalog": { body: [], headers: { "X-Total-Count": "0" } },
    ...extra,
  });
}

describe("entry page", () => {
  it("hides every write action from a viewer", async () => {
    api(viewer());
    renderApp("/catalog/e1");
    expect(await screen.findByRole("heading", { level: 1, name: "Translation Agent" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Probe now" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Deprecate" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Delete" })).toBeNull();
  });

  it("shows probe and deprecate but not delete without catalog:delete", async () => {
    api(user("editor", ["catalog:read", "catalog:write"]));
    renderApp("/catalog/e1");
    expect(await screen.findByRole("button", { name: "Probe now" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Deprecate" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Delete" })).toBeNull();
  });

  it("deletes after confirmation and returns to the catalog", async () => {
    const fake = api(user(), { "DELETE /api/v1/catalog/e1": { status: 204 } });
    const ue = userEvent.setup();
    const { location } = renderApp("/catalog/e1");
    await ue.click(await screen.findByRole("button", { name: "Delete" }));
    const dialog = screen.getByRole("dialog", { name: "Delete entry" });
    expect(fake.find("DELETE", "/api/v1/catalog/e1")).toHaveLength(0);
    await ue.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    await ue.click(screen.getByRole("button", { name: "Delete" }));
    await ue.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(location()).toBe("/"));
    expect(fake.find("DELETE", "/api/v1/catalog/e1")).toHaveLength(1);
    expect(await screen.findByText("Deleted Translation Agent")).toBeInTheDocument();
  });

  it("shows the server's message when the delete is refused", async () => {
    api(user(), { "DELETE /api/v1/catalog/e1": { status: 403, body: { error: "insufficient permissions" } } });
    const ue = userEvent.setup();
    renderApp("/catalog/e1");
    await ue.click(await screen.findByRole("button", { name: "Delete" }));
    await ue.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Delete" }));
    expect(await within(screen.getByRole("dialog")).findByRole("alert")).toHaveTextContent("insufficient permissions");
  });

  it("reports a rate-limited probe with the server's message", async () => {
    api(user(), { "POST /api/v1/catalog/e1/probe": { status: 429, body: { error: "probe rate limited; try again in 4 s" } } });
    const ue = userEvent.setup();
    renderApp("/catalog/e1");
    await ue.click(await screen.findByRole("button", { name: "Probe now" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("probe rate limited; try again in 4 s");
  });

  it("deprecates through the lifecycle endpoint", async () => {
    const fake = api(user(), {
      "PATCH /api/v1/catalog/e1/lifecycle": { body: { ...translation, status: "deprecated" } },
    });
    const ue = userEvent.setup();
    renderApp("/catalog/e1");
    await ue.click(await screen.findByRole("button", { name: "Deprecate" }));
    await waitFor(() => expect(fake.find("PATCH", "/api/v1/catalog/e1/lifecycle")).toHaveLength(1));
    expect(JSON.parse(fake.find("PATCH", "/api/v1/catalog/e1/lifecycle")[0]!.body!)).toEqual({ state: "deprecated" });
  });

  it("lists capabilities with their schemas and the authentication of the card", async () => {
    api(viewer());
    const ue = userEvent.setup();
    renderApp("/catalog/e1");
    expect(await screen.findByRole("heading", { name: "Skills (1)" })).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Tools (1)" })).toBeInTheDocument();
    expect(screen.getByText("Input schema")).toBeInTheDocument();
    expect(screen.getByLabelText("Input schema of lookup")).toHaveTextContent('"term"');
    await ue.click(screen.getByRole("tab", { name: "Authentication" }));
    expect(await screen.findByText("HTTP Bearer (JWT)")).toBeInTheDocument();
  });

  it("charts health history with uptime and the last failure", async () => {
    api(viewer());
    renderApp("/catalog/e1?tab=health");
    expect(await screen.findByText("50.0 % (1 of 2 probes)")).toBeInTheDocument();
    expect(screen.getAllByText("HTTP 503").length).toBeGreaterThan(0);
    expect(screen.getByRole("img", { name: "1 of 2 recent probes succeeded" })).toBeInTheDocument();
    expect(screen.getByRole("img", { name: /Latency of the last 1 successful probes/ })).toBeInTheDocument();
    const rows = within(screen.getByRole("table", { name: "Last probes, newest first" })).getAllByRole("row");
    expect(rows[1]).toHaveTextContent("failed");
    expect(rows[1]).toHaveTextContent("503");
    expect(rows[2]).toHaveTextContent("ok");
  });

  it("tolerates a server without a drift endpoint and renders drift from the entry", async () => {
    api(viewer());
    renderApp("/catalog/e1?tab=drift");
    expect(await screen.findByText("This server does not record tool drift.")).toBeInTheDocument();
  });

  it("renders the drift endpoint's records, newest first, with what changed", async () => {
    api(viewer(), {
      "GET /api/v1/catalog/e1/drift": {
        body: {
          drift: [
            {
              at: "2026-01-03T00:00:00Z",
              source: "probe",
              added: [],
              removed: [{ kind: "mcp.tool", name: "old" }],
              changed: [{ kind: "mcp.tool", name: "lookup", fields: ["input_schema", "description"] }],
              toolsBefore: 3,
              toolsAfter: 2,
            },
            { at: "2026-01-02T00:00:00Z", source: "discovery", added: [{ kind: "mcp.tool", name: "old" }], removed: [], changed: [] },
          ],
        },
      },
    });
    renderApp("/catalog/e1?tab=drift");
    expect(await screen.findByText("Changed: lookup (input_schema, description)")).toBeInTheDocument();
    const items = within(screen.getByRole("list", { name: "Tool drift history" })).getAllByRole("listitem");
    expect(items[0]).toHaveTextContent("seen by probe");
    expect(items[0]).toHaveTextContent("Tools: 3 → 2");
    expect(items[1]).toHaveTextContent("Added: old");
  });

  it("renders tool drift carried on the entry", async () => {
    api(viewer(), {
      "GET /api/v1/catalog/e1": {
        body: { ...translation, tool_drift: [{ at: "2026-01-02T00:00:00Z", added: ["search"], removed: [{ name: "lookup" }] }] },
      },
    });
    renderApp("/catalog/e1?tab=drift");
    expect(await screen.findByText("Added: search")).toBeInTheDocument();
    expect(screen.getByText("Removed: lookup")).toBeInTheDocument();
  });

  it("shows the raw card highlighted, or says none is stored", async () => {
    api(viewer(), {
      "GET /api/v1/catalog/e1/card": { text: '{"name":"Translation Agent","n":1}', headers: { "X-Raw-Card-Fetched-At": "2026-01-01T00:00:00Z" } },
    });
    renderApp("/catalog/e1?tab=card");
    const pre = await screen.findByLabelText("Raw card JSON");
    expect(pre.querySelector(".k")).toHaveTextContent('"name":');
    expect(pre.querySelector(".s")).toHaveTextContent('"Translation Agent"');
    expect(screen.getByRole("button", { name: "Copy card" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Download card" })).toBeInTheDocument();
  });

  it("says when no raw card is stored", async () => {
    api(viewer(), { "GET /api/v1/catalog/e1/card": { status: 404, body: { error: "no raw card stored" } } });
    renderApp("/catalog/e1?tab=card");
    expect(await screen.findByText("No raw card stored for this entry.")).toBeInTheDocument();
  });

  it("shows 404 as not found", async () => {
    api(viewer(), { "GET /api/v1/catalog/e1": { status: 404, body: { error: "catalog entry not found" } } });
    renderApp("/catalog/e1");
    expect(await screen.findByRole("heading", { name: "Entry not found" })).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("catalog entry not found");
  });
});

describe("raw card actions", () => {
  it("copies the card and reports it", async () => {
    api(viewer(), { "GET /api/v1/catalog/e1/card": { text: '{"name":"T"}' } });
    const ue = userEvent.setup(); // with a clipboard stub of its own
    renderApp("/catalog/e1?tab=card");
    await ue.click(await screen.findByRole("button", { name: "Copy card" }));
    expect(await screen.findByText("Card copied to the clipboard")).toBeInTheDocument();
    expect(await navigator.clipboard.readText()).toBe('{"name":"T"}');
  });
});
