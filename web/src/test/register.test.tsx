import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { ValidationResult } from "../api/types";
import { entry, fakeApi, renderApp, user } from "./util";

const invalid: ValidationResult = {
  valid: false,
  protocol: "a2a",
  spec_version: "1.0",
  errors: [
    { field: "name", message: "name is required" },
    { field: "skills[0].id", message: "skills[0].id is required" },
  ],
  warnings: [],
};
const valid: ValidationResult = {
  valid: true,
  protocol: "a2a",
  spec_version: "1.0",
  errors: [],
  warnings: [],
  preview: { display_name: "Echo", protocol: "a2a", skills_count: 2, security_schemes: ["bearer"] },
};

function api(extra: Parameters<typeof fakeApi>[0] = {}) {
  return fakeApi({
    "GET /api/v1/auth/me": { body: user() },
    "GET /api/v1/stats": { body: { total: 0, by_status: {}, by_source: {} } },
    "GET /api/v1/catalog": { body: [], headers: { "X-Total-Count": "0" } },
    "POST /api/v1/catalog/validate": (req) => {
      const card = JSON.parse(req.body ?? "{}") as { name?: string };
      return card.name ? { body: valid } : { status: 422, body: invalid };
    },
    "GET /api/v1/catalog/new1": { body: entry(1, { id: "new1", display_name: "Echo" }) },
    ...extra,
  });
}

async function openDialog(ue: ReturnType<typeof userEvent.setup>) {
  await ue.click(await screen.findByRole("button", { name: "Register agent" }));
  return screen.findByRole("dialog", { name: "Register agent" });
}

describe("register dialog", () => {
  it("flags text that is not JSON without calling the server", async () => {
    const fake = api();
    const ue = userEvent.setup();
    renderApp("/");
    const dialog = await openDialog(ue);
    const box = within(dialog).getByLabelText("Agent card JSON");
    await ue.click(box);
    await ue.paste("{not json");
    expect(await within(dialog).findByText(/Not valid JSON/)).toBeInTheDocument();
    expect(fake.find("POST", "/api/v1/catalog/validate")).toHaveLength(0);
    expect(within(dialog).getByRole("button", { name: "Register agent" })).toBeDisabled();
  });

  it("validates a pasted card live and lists the field errors", async () => {
    const fake = api();
    const ue = userEvent.setup();
    renderApp("/");
    const dialog = await openDialog(ue);
    await ue.click(within(dialog).getByLabelText("Agent card JSON"));
    await ue.paste('{"skills":[{}]}');
    expect(await within(dialog).findByText(/Card is invalid \(2 errors\)/, undefined, { timeout: 2000 })).toBeInTheDocument();
    expect(within(dialog).getByText("name is required")).toBeInTheDocument();
    expect(within(dialog).getByText("skills[0].id")).toBeInTheDocument();
    expect(fake.find("POST", "/api/v1/catalog/validate")[0]!.body).toBe('{"skills":[{}]}');
  });

  it("previews a valid card and registers it", async () => {
    const fake = api({
      "POST /api/v1/catalog/register": { status: 201, body: entry(1, { id: "new1", display_name: "Echo" }) },
    });
    const ue = userEvent.setup();
    const { location } = renderApp("/");
    const dialog = await openDialog(ue);
    await ue.selectOptions(within(dialog).getByLabelText("Protocol"), "a2a");
    await ue.click(within(dialog).getByLabelText("Agent card JSON"));
    await ue.paste('{"name":"Echo","url":"https://echo.example.com"}');
    expect(await within(dialog).findByText(/Card is valid/, undefined, { timeout: 2000 })).toBeInTheDocument();
    const preview = within(dialog).getByRole("region", { name: "Card preview" });
    expect(within(preview).getByText("Skills").nextSibling).toHaveTextContent("2");
    await ue.click(within(dialog).getByRole("button", { name: "Register agent" }));
    await waitFor(() => expect(location()).toBe("/catalog/new1"));
    const reg = fake.find("POST", "/api/v1/catalog/register")[0]!;
    expect(reg.body).toBe('{"name":"Echo","url":"https://echo.example.com"}');
    expect(reg.query.get("protocol")).toBe("a2a");
    expect(await screen.findByText("Registered Echo")).toBeInTheDocument();
  });

  it("shows the server's message when registration is refused", async () => {
    api({ "POST /api/v1/catalog/register": { status: 409, body: { error: "an entry with this endpoint already exists" } } });
    const ue = userEvent.setup();
    renderApp("/");
    const dialog = await openDialog(ue);
    await ue.click(within(dialog).getByLabelText("Agent card JSON"));
    await ue.paste('{"name":"Echo"}');
    await within(dialog).findByText(/Card is valid/, undefined, { timeout: 2000 });
    await ue.click(within(dialog).getByRole("button", { name: "Register agent" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("an entry with this endpoint already exists");
  });

  it("imports from a URL and shows a refused URL's message", async () => {
    const fake = api({
      "POST /api/v1/catalog/import": (req) => {
        const b = JSON.parse(req.body ?? "{}") as { url: string };
        if (b.url.includes("127.0.0.1")) return { status: 400, body: { error: "url refused: 127.0.0.1 is a loopback address" } };
        return { status: 201, body: entry(1, { id: "new1", display_name: "Echo" }) };
      },
    });
    const ue = userEvent.setup();
    const { location } = renderApp("/");
    const dialog = await openDialog(ue);
    await ue.click(within(dialog).getByRole("tab", { name: "Import from URL" }));
    const url = within(dialog).getByLabelText("Card URL");
    await ue.type(url, "http://127.0.0.1/.well-known/agent-card.json");
    await ue.click(within(dialog).getByRole("button", { name: "Fetch and import" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("url refused: 127.0.0.1 is a loopback address");
    await ue.clear(url);
    await ue.type(url, "https://echo.example.com/.well-known/agent-card.json");
    await ue.selectOptions(within(dialog).getByLabelText("Protocol"), "a2a");
    await ue.click(within(dialog).getByRole("button", { name: "Fetch and import" }));
    await waitFor(() => expect(location()).toBe("/catalog/new1"));
    expect(JSON.parse(fake.find("POST", "/api/v1/catalog/import").at(-1)!.body!)).toEqual({
      url: "https://echo.example.com/.well-known/agent-card.json",
      protocol: "a2a",
    });
  });

  it("loads an uploaded file and validates it", async () => {
    api();
    const ue = userEvent.setup();
    renderApp("/");
    const dialog = await openDialog(ue);
    await ue.click(within(dialog).getByRole("tab", { name: "Upload file" }));
    const file = new File(['{"name":"Echo"}'], "echo.json", { type: "application/json" });
    await ue.upload(within(dialog).getByLabelText("Card file (JSON)"), file);
    expect(await within(dialog).findByText("Loaded echo.json")).toBeInTheDocument();
    expect(await within(dialog).findByText(/Card is valid/, undefined, { timeout: 2000 })).toBeInTheDocument();
  });

  it("creates an entry by hand and shows field errors", async () => {
    api({
      "POST /api/v1/catalog": {
        status: 400,
        body: { error: "endpoint is required", details: [{ field: "endpoint", message: "endpoint is required" }] },
      },
    });
    const ue = userEvent.setup();
    renderApp("/");
    const dialog = await openDialog(ue);
    await ue.click(within(dialog).getByRole("tab", { name: "Enter manually" }));
    await ue.type(within(dialog).getByLabelText("Name (required)"), "Manual");
    await ue.click(within(dialog).getByRole("button", { name: "Create entry" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("endpoint is required");
    expect(within(dialog).getByLabelText(/Endpoint/)).toHaveAttribute("aria-invalid", "true");
  });
});
