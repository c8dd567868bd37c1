export function Spinner({ label = "Loading", inline = false }: { label?: string; inline?: boolean }) {
  return (
    <span className={inline ? "spinner-inline" : "spinner-block"} role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span className={inline ? "visually-hidden" : "spinner-label"}>{label}…</span>
    </span>
  );
}
