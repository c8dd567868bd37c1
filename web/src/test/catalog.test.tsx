import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { CatalogEntry } from "../api/types";
import { entry, fakeApi, renderApp, user, viewer } from "./util";

const stats = { total: 3, by_status: { active: 2, offline: 1 }, by_source: { push: 3 }, by_protocol: { a2a: 3 } };

function api(list: (q: URLSearchParams) => { items: CatalogEntry[]; total: number } | { status: number; error: string }, me = user()) {
  return fakeApi({
    "GET /api/v1/auth/me": { body: me },
    "GET /api/v1/stats": { body: stats },
    "GET /api/v1/catalog": (req) => {
      const r = list(req.query);
      if ("error" in r) return { status: r.status, body: { error: r.error } };
      return { body: r.items, headers: { "X-Total-Count": String(r.total) } };
    },
  });
}

describe("catalog page", () => {
  it("reads its filters from the URL, sends them to the API and shows them in the controls", async () => {
    const fake = api(() => ({ items: [entry(1)], total: 1 }));
    renderApp("/?protocol=mcp&state=active,offline&source=k8s&team=core&tags=nlp&q=weather&sort=displayName_asc");
    expect(await screen.findByRole("link", { name: "Agent 1" })).toBeInTheDocument();
    const q = fake.find("GET", "/api/v1/catalog")[0]!.query;
    expect(q.get("protocol")).toBe("mcp");
    expect(q.get("state")).toBe("active,offline");
    expect(q.get("source")).toBe("k8s");
    expect(q.get("team")).toBe("core");
    expect(q.get("categories")).toBe("nlp");
    expect(q.get("q")).toBe("weather");
    expect(q.get("sort")).toBe("displayName_asc");
    expect(q.get("limit")).toBe("25");
    expect(q.get("offset")).toBe("0");
    expect(screen.getByLabelText("Protocol")).toHaveValue("mcp");
    expect(screen.getByLabelText("Source")).toHaveValue("k8s");
    expect(screen.getByLabelText("Team")).toHaveValue("core");
    expect(screen.getByLabelText("Tags")).toHaveValue("nlp");
    expect(screen.getByLabelText("Sort by")).toHaveValue("displayName_asc");
    expect(screen.getByRole("searchbox", { name: /search/i })).toHaveValue("weather");
    const states = within(screen.getByRole("group", { name: "State" }));
    expect(states.getByRole("checkbox", { name: "Active" })).toBeChecked();
    expect(states.getByRole("checkbox", { name: "Offline" })).toBeChecked();
    expect(states.getByRole("checkbox", { name: "Degraded" })).not.toBeChecked();
  });

  it("ignores invalid URL values instead of sending them", async () => {
    const fake = api(() => ({ items: [entry(1)], total: 1 }));
    renderApp("/?protocol=bogus&state=active,nope&sort=evil&page=-3");
    await screen.findByRole("link", { name: "Agent 1" });
    const q = fake.find("GET", "/api/v1/catalog")[0]!.query;
    expect(q.has("protocol")).toBe(false);
    expect(q.get("state")).toBe("active");
    expect(q.has("sort")).toBe(false);
    expect(q.get("offset")).toBe("0");
  });

  it("writes changed filters into the URL and refetches", async () => {
    const fake = api(() => ({ items: [entry(1)], total: 1 }));
    const ue = userEvent.setup();
    const { location } = renderApp("/");
    await screen.findByRole("link", { name: "Agent 1" });
    await ue.selectOptions(screen.getByLabelText("Protocol"), "a2a");
    await waitFor(() => expect(location()).toBe("/?protocol=a2a"));
    await ue.click(within(screen.getByRole("group", { name: "State" })).getByRole("checkbox", { name: "Degraded" }));
    await waitFor(() => expect(location()).toBe("/?protocol=a2a&state=degraded"));
    await ue.type(screen.getByRole("searchbox"), "translate");
    await waitFor(() => expect(location()).toBe("/?q=translate&protocol=a2a&state=degraded"), { timeout: 2000 });
    await waitFor(() => {
      const last = fake.find("GET", "/api/v1/catalog").at(-1)!.query;
      expect(last.get("q")).toBe("translate");
      expect(last.get("protocol")).toBe("a2a");
      expect(last.get("state")).toBe("degraded");
    });
  });

  it("pages with X-Total-Count and keeps the page in the URL", async () => {
    const fake = api((q) => {
      const offset = Number(q.get("offset"));
      return { items: [entry(offset + 1)], total: 60 };
    });
    const ue = userEvent.setup();
    const { location } = renderApp("/");
    await screen.findByText("1–25 of 60");
    expect(screen.getByText("Page 1 of 3")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Previous page" })).toBeDisabled();
    await ue.click(screen.getByRole("button", { name: "Next page" }));
    await waitFor(() => expect(location()).toBe("/?page=2"));
    expect(await screen.findByRole("link", { name: "Agent 26" })).toBeInTheDocument();
    expect(fake.find("GET", "/api/v1/catalog").at(-1)!.query.get("offset")).toBe("25");
  });

  it("focuses the search box on /", async () => {
    api(() => ({ items: [entry(1)], total: 1 }));
    renderApp("/");
    await screen.findByRole("link", { name: "Agent 1" });
    const search = screen.getByRole("searchbox");
    expect(search).not.toHaveFocus();
    fireEvent.keyDown(document.body, { key: "/" });
    expect(search).toHaveFocus();
  });

  it("shows the stats bar", async () => {
    api(() => ({ items: [entry(1)], total: 1 }));
    renderApp("/");
    const bar = await screen.findByRole("region", { name: "Catalog statistics" });
    await waitFor(() => expect(within(bar).getByText("Total").nextSibling).toHaveTextContent("3"));
    expect(within(bar).getByText("Offline").nextSibling).toHaveTextContent("1");
  });

  it("has distinct empty states and clears filters", async () => {
    api((q) => ({ items: q.get("protocol") ? [] : [entry(1)], total: q.get("protocol") ? 0 : 1 }));
    const ue = userEvent.setup();
    const { location } = renderApp("/?protocol=mcp&sort=createdAt_desc");
    expect(await screen.findByText("No agents match the current filters.")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Clear filters" })).toBeInTheDocument();
    await ue.click(screen.getByRole("button", { name: "Show all agents" }));
    await waitFor(() => expect(location()).toBe("/?sort=createdAt_desc"));
    expect(await screen.findByRole("link", { name: "Agent 1" })).toBeInTheDocument();
  });

  it("says when the catalog is empty", async () => {
    api(() => ({ items: [], total: 0 }));
    renderApp("/");
    expect(await screen.findByText("No agents registered yet.")).toBeInTheDocument();
  });

  it("shows the server's error message and retries", async () => {
    let fail = true;
    api(() => (fail ? { status: 500, error: "database is locked" } : { items: [entry(7)], total: 1 }));
    const ue = userEvent.setup();
    renderApp("/");
    const alert = await screen.findByText(/database is locked/);
    expect(alert.closest("[role=alert]")).not.toBeNull();
    fail = false;
    await ue.click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findByRole("link", { name: "Agent 7" })).toBeInTheDocument();
  });

  it("shows Register agent only with catalog:write", async () => {
    api(() => ({ items: [entry(1)], total: 1 }), viewer());
    renderApp("/");
    await screen.findByRole("link", { name: "Agent 1" });
    expect(screen.queryByRole("button", { name: "Register agent" })).toBeNull();
  });
});

describe("catalog refresh failures", () => {
  it("keeps the last answer on screen when a refresh fails", async () => {
    let fail = false;
    api(() => (fail ? { status: 503, error: "database unavailable" } : { items: [entry(3)], total: 1 }));
    const ue = userEvent.setup();
    renderApp("/");
    await screen.findByRole("link", { name: "Agent 3" });
    fail = true;
    await ue.click(screen.getByRole("button", { name: "Refresh" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("database unavailable");
    expect(screen.getByRole("link", { name: "Agent 3" })).toBeInTheDocument();
  });
});
