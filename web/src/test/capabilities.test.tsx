import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { CapabilityItem } from "../api/types";
import { fakeApi, renderApp, user } from "./util";

function item(name: string, agent: string, kind = "mcp.tool"): CapabilityItem {
  return { kind, name, description: `${name} does things`, agent_id: `id-${agent}`, agent_name: agent, protocol: "mcp", status: "active", provider_org: "Acme", latency_ms: 12 };
}

describe("capabilities browser", () => {
  it("groups the agents per capability and filters by kind and search through the URL", async () => {
    const fake = fakeApi({
      "GET /api/v1/auth/me": { body: user() },
      "GET /api/v1/capabilities": (req) => {
        const items = [item("echo", "Files"), item("echo", "Weather"), item("translate", "Lingo", "a2a.skill")].filter(
          (i) => (!req.query.get("kind") || i.kind === req.query.get("kind")) && i.name.includes(req.query.get("q") ?? ""),
        );
        return { body: { total: items.length, items } };
      },
    });
    const ue = userEvent.setup();
    const { location } = renderApp("/capabilities");
    const list = await screen.findByRole("list", { name: "Capabilities" });
    const echo = within(list).getByRole("heading", { name: /echo/ }).closest("li")!;
    expect(within(echo).getByText("2 agents")).toBeInTheDocument();
    expect(within(echo).getAllByRole("link", { name: "Weather" })[0]).toHaveAttribute("href", "/catalog/id-Weather");
    expect(echo).toHaveTextContent("Offered by Files, Weather");
    expect(within(list).getByRole("link", { name: "echo" })).toHaveAttribute("href", "/capabilities/mcp.tool%3A%3Aecho");

    await ue.selectOptions(screen.getByLabelText("Kind"), "a2a.skill");
    await waitFor(() => expect(location()).toBe("/capabilities?kind=a2a.skill"));
    expect(await within(list).findByRole("link", { name: "translate" })).toBeInTheDocument();
    expect(fake.find("GET", "/api/v1/capabilities").at(-1)!.query.get("kind")).toBe("a2a.skill");

    await ue.type(screen.getByRole("searchbox", { name: /Search capabilities/ }), "zzz");
    await waitFor(() => expect(location()).toBe("/capabilities?kind=a2a.skill&q=zzz"));
    expect(await screen.findByText("No capability matches the search.")).toBeInTheDocument();
  });

  it("lists the agents of one capability", async () => {
    fakeApi({
      "GET /api/v1/auth/me": { body: user() },
      "GET /api/v1/capabilities/mcp.tool%3A%3Aecho": {
        body: {
          capability: { kind: "mcp.tool", name: "echo", description: "Echoes" },
          agents: [
            {
              id: "a1",
              display_name: "Files",
              protocol: "mcp",
              provider: { organization: "Acme" },
              health: { state: "active", lastProbedAt: null, lastSuccessAt: "2026-01-01T00:00:00Z", latencyMs: 9, consecutiveFailures: 0, lastError: "" },
              status: "active",
              spec_version: "2025-06-18",
              capability_snippet: { kind: "mcp.tool", name: "echo" },
            },
          ],
        },
      },
    });
    renderApp("/capabilities/mcp.tool%3A%3Aecho");
    expect(await screen.findByRole("heading", { level: 1, name: "echo" })).toBeInTheDocument();
    const table = screen.getByRole("table", { name: "Agents offering echo" });
    expect(within(table).getByRole("link", { name: "Files" })).toHaveAttribute("href", "/catalog/a1");
    expect(within(table).getByText("9 ms")).toBeInTheDocument();
  });
});
