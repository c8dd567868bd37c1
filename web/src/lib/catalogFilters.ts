// The catalog view lives in the URL (shareable, survives reload): parse and write it here.
import { SORTS, SOURCES, STATES, PROTOCOLS, type Sort } from "../api/types";
import type { CatalogQuery } from "../api/hooks";

export interface CatalogFilters {
  q: string;
  protocol: string;
  states: string[];
  source: string;
  team: string;
  tags: string;
  sort: Sort;
  page: number;
  perPage: number;
}

export const PER_PAGE_CHOICES = [10, 25, 50, 100];
export const DEFAULT_PER_PAGE = 25;
export const DEFAULT_SORT: Sort = "lastSuccessAt_desc";

export function parseFilters(p: URLSearchParams): CatalogFilters {
  const protocol = p.get("protocol") ?? "";
  const source = p.get("source") ?? "";
  const sort = p.get("sort") ?? "";
  const perPage = Number(p.get("per_page"));
  const page = Number(p.get("page"));
  return {
    q: p.get("q") ?? "",
    protocol: (PROTOCOLS as string[]).includes(protocol) ? protocol : "",
    states: (p.get("state") ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s, i, all) => (STATES as string[]).includes(s) && all.indexOf(s) === i),
    source: (SOURCES as string[]).includes(source) ? source : "",
    team: p.get("team") ?? "",
    tags: p.get("tags") ?? "",
    sort: (SORTS as readonly string[]).includes(sort) ? (sort as Sort) : DEFAULT_SORT,
    page: Number.isInteger(page) && page >= 1 ? page : 1,
    perPage: PER_PAGE_CHOICES.includes(perPage) ? perPage : DEFAULT_PER_PAGE,
  };
}

/** Only non-default values go into the URL. */
export function filtersToParams(f: CatalogFilters): URLSearchParams {
  const p = new URLSearchParams();
  if (f.q) p.set("q", f.q);
  if (f.protocol) p.set("protocol", f.protocol);
  if (f.states.length) p.set("state", f.states.join(","));
  if (f.source) p.set("source", f.source);
  if (f.team) p.set("team", f.team);
  if (f.tags) p.set("tags", f.tags);
  if (f.sort !== DEFAULT_SORT) p.set("sort", f.sort);
  if (f.page > 1) p.set("page", String(f.page));
  if (f.perPage !== DEFAULT_PER_PAGE) p.set("per_page", String(f.perPage));
  return p;
}

export function hasFilters(f: CatalogFilters): boolean {
  return Boolean(f.q || f.protocol || f.states.length || f.source || f.team || f.tags);
}

function tagList(tags: string): string {
  return tags
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean)
    .join(",");
}

export function toQuery(f: CatalogFilters): CatalogQuery {
  return {
    q: f.q.trim() || undefined,
    protocol: f.protocol || undefined,
    state: f.states.length ? f.states.join(",") : undefined,
    source: f.source || undefined,
    team: f.team.trim() || undefined,
    categories: tagList(f.tags) || undefined,
    sort: f.sort === DEFAULT_SORT ? undefined : f.sort,
    limit: f.perPage,
    offset: (f.page - 1) * f.perPage,
  };
}
