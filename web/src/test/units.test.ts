import { describe, expect, it } from "vitest";
import { buildUrl } from "../api/client";
import { filtersToParams, parseFilters, toQuery } from "../lib/catalogFilters";
import { prettyJson } from "../components/JsonView";
import { formatLatency, relativeTime } from "../components/ui";

describe("catalog filters", () => {
  it("round-trips through the URL", () => {
    const f = parseFilters(new URLSearchParams("q=x&protocol=mcp&state=offline,active&source=push&team=t&tags=a,b&sort=createdAt_desc&page=3&per_page=50"));
    expect(filtersToParams(f).toString()).toBe("q=x&protocol=mcp&state=offline%2Cactive&source=push&team=t&tags=a%2Cb&sort=createdAt_desc&page=3&per_page=50");
    expect(toQuery(f)).toMatchObject({ limit: 50, offset: 100, categories: "a,b", state: "offline,active" });
  });

  it("drops defaults and duplicates", () => {
    const f = parseFilters(new URLSearchParams("state=active,active&per_page=33&sort=lastSuccessAt_desc"));
    expect(f.states).toEqual(["active"]);
    expect(filtersToParams(f).toString()).toBe("state=active");
    expect(toQuery(parseFilters(new URLSearchParams("tags= a , ,b "))).categories).toBe("a,b");
  });
});

describe("helpers", () => {
  it("builds API URLs without empty parameters", () => {
    expect(buildUrl("/catalog", { q: "", limit: 25, protocol: undefined })).toBe("/api/v1/catalog?limit=25");
    expect(buildUrl("/api/v1/x")).toBe("/api/v1/x");
  });

  it("pretty-prints JSON and leaves other text alone", () => {
    expect(prettyJson('{"a":1}')).toEqual({ text: '{\n  "a": 1\n}', parsed: true });
    expect(prettyJson("nope")).toEqual({ text: "nope", parsed: false });
  });

  it("formats latency and ages", () => {
    expect(formatLatency(null)).toBe("—");
    expect(formatLatency(12.4)).toBe("12 ms");
    expect(formatLatency(2500)).toBe("2.50 s");
    const now = Date.parse("2026-01-01T00:10:00Z");
    expect(relativeTime("2026-01-01T00:09:30Z", now)).toBe("30s ago");
    expect(relativeTime("2026-01-01T00:00:00Z", now)).toBe("10m ago");
    expect(relativeTime(null, now)).toBe("never");
  });
});

describe("card preview values", () => {
  it("renders objects, lists and flags readably", async () => {
    const { previewValue } = await import("../pages/RegisterDialog");
    expect(previewValue({ organization: "LangTech", url: "https://l.example" })).toBe("LangTech · url: https://l.example");
    expect(previewValue(["a", "b"])).toBe("a, b");
    expect(previewValue(false)).toBe("no");
    expect(previewValue(null)).toBe("—");
    expect(previewValue(3)).toBe("3");
  });
});
