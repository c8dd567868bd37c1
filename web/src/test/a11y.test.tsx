import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { entry, fakeApi, renderApp, user } from "./util";

function api() {
  return fakeApi({
    "GET /api/v1/auth/me": { body: user() },
    "GET /api/v1/stats": { body: { total: 1, by_status: {}, by_source: {} } },
    "GET /api/v1/catalog": { body: [entry(1)], headers: { "X-Total-Count": "1" } },
    "GET /api/v1/catalog/e1": { body: entry(1) },
  });
}

describe("keyboard and landmarks", () => {
  it("has a banner, main navigation and main landmark with one h1", async () => {
    api();
    renderApp("/");
    expect(await screen.findByRole("heading", { level: 1, name: "Catalog" })).toBeInTheDocument();
    expect(screen.getByRole("banner")).toBeInTheDocument();
    expect(screen.getByRole("navigation", { name: "Main" })).toBeInTheDocument();
    expect(screen.getByRole("main")).toBeInTheDocument();
    expect(screen.getAllByRole("heading", { level: 1 })).toHaveLength(1);
    expect(screen.getByRole("link", { name: "Catalog" })).toHaveAttribute("aria-current", "page");
  });

  it("moves between tabs with the arrow keys and keeps the tab in the URL", async () => {
    api();
    const ue = userEvent.setup();
    const { location } = renderApp("/catalog/e1");
    const overview = await screen.findByRole("tab", { name: "Overview" });
    expect(overview).toHaveAttribute("aria-selected", "true");
    overview.focus();
    await ue.keyboard("{ArrowRight}");
    const auth = screen.getByRole("tab", { name: "Authentication" });
    expect(auth).toHaveFocus();
    expect(auth).toHaveAttribute("aria-selected", "true");
    await waitFor(() => expect(location()).toBe("/catalog/e1?tab=auth"));
    await ue.keyboard("{End}");
    expect(screen.getByRole("tab", { name: "Raw card" })).toHaveFocus();
    await ue.keyboard("{Home}");
    expect(screen.getByRole("tab", { name: "Overview" })).toHaveFocus();
    expect(screen.getByRole("tabpanel")).toHaveAccessibleName("Overview");
  });

  it("opens dialogs with focus inside, closes them with Escape and returns focus", async () => {
    api();
    const ue = userEvent.setup();
    renderApp("/catalog/e1");
    const del = await screen.findByRole("button", { name: "Delete" });
    await ue.click(del);
    const dialog = screen.getByRole("dialog", { name: "Delete entry" });
    expect(dialog).toHaveAttribute("aria-modal", "true");
    expect(screen.getByRole("button", { name: "Cancel" })).toHaveFocus();
    await ue.tab();
    expect(within(dialog).getByRole("button", { name: "Delete" })).toHaveFocus();
    await ue.tab();
    // Focus stays in the dialog.
    expect(dialog.contains(document.activeElement)).toBe(true);
    await ue.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(del).toHaveFocus();
  });

  it("switches the colour theme and remembers it", async () => {
    api();
    const ue = userEvent.setup();
    renderApp("/");
    const theme = await screen.findByLabelText("Colour theme");
    expect(theme).toHaveValue("system");
    expect(document.documentElement.dataset.theme).toBeUndefined();
    await ue.selectOptions(theme, "dark");
    expect(document.documentElement.dataset.theme).toBe("dark");
    expect(localStorage.getItem("agentlens.theme")).toBe("dark");
    await ue.selectOptions(theme, "system");
    expect(document.documentElement.dataset.theme).toBeUndefined();
    expect(localStorage.getItem("agentlens.theme")).toBeNull();
  });

  it("gives every form control in the filters a label", async () => {
    api();
    renderApp("/");
    await screen.findByRole("link", { name: "Agent 1" });
    const filters = screen.getByRole("region", { name: "Filters" });
    for (const el of filters.querySelectorAll("input, select")) {
      expect(el).toHaveAccessibleName();
    }
  });
});

describe("form dialogs", () => {
  it("start on their first field", async () => {
    fakeApi({
      "GET /api/v1/auth/me": { body: user() },
      "GET /api/v1/users": { body: [user()], headers: { "X-Total-Count": "1" } },
      "GET /api/v1/roles": { body: [user().role], headers: { "X-Total-Count": "1" } },
    });
    const ue = userEvent.setup();
    renderApp("/settings/users");
    const add = await screen.findByRole("button", { name: "Add user" });
    await waitFor(() => expect(add).toBeEnabled());
    await ue.click(add);
    expect(screen.getByLabelText("Username")).toHaveFocus();
  });
});

describe("narrow screens", () => {
  it("folds the navigation behind a Menu button that reports its state", async () => {
    api();
    const ue = userEvent.setup();
    renderApp("/");
    const menu = await screen.findByRole("button", { name: "Menu" });
    expect(menu).toHaveAttribute("aria-expanded", "false");
    expect(menu).toHaveAttribute("aria-controls", screen.getByRole("navigation", { name: "Main" }).id);
    await ue.click(menu);
    expect(menu).toHaveAttribute("aria-expanded", "true");
    await ue.click(screen.getByRole("link", { name: "Capabilities" }));
    await waitFor(() => expect(menu).toHaveAttribute("aria-expanded", "false"));
  });
});
