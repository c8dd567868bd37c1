import { Link } from "react-router";

export function NotFoundPage() {
  return (
    <section className="stack">
      <h1>Page not found</h1>
      <p>
        There is nothing here. <Link to="/">Back to the catalog</Link>
      </p>
    </section>
  );
}
