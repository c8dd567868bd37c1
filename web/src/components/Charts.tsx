// Hand-drawn SVG charts for the probe history (no charting library).
import type { ProbeRecord } from "../api/types";
import { formatLatency, formatTime } from "./ui";

export function LatencyChart({ points }: { points: Array<{ at: string; latencyMs: number }> }) {
  if (points.length === 0) return <p className="muted">No successful probe yet: no latency to chart.</p>;
  const W = 640;
  const H = 180;
  const pad = { l: 56, r: 12, t: 12, b: 28 };
  const values = points.map((p) => p.latencyMs);
  const max = Math.max(...values, 1);
  const min = Math.min(...values);
  const avg = values.reduce((a, b) => a + b, 0) / values.length;
  const x = (i: number) => pad.l + (points.length === 1 ? (W - pad.l - pad.r) / 2 : (i * (W - pad.l - pad.r)) / (points.length - 1));
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const path = points.map((p, i) => `${x(i).toFixed(1)},${y(p.latencyMs).toFixed(1)}`).join(" ");
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const summary = `Latency of the last ${points.length} successful probes: min ${formatLatency(min)}, average ${formatLatency(avg)}, max ${formatLatency(max)}`;
  return (
    <figure className="chart-figure">
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary}>
        <line className="axis" x1={pad.l} y1={pad.t} x2={pad.l} y2={H - pad.b} />
        <line className="axis" x1={pad.l} y1={H - pad.b} x2={W - pad.r} y2={H - pad.b} />
        <line className="axis" x1={pad.l} y1={y(max / 2)} x2={W - pad.r} y2={y(max / 2)} strokeDasharray="3 4" />
        <text x={pad.l - 6} y={pad.t + 4} textAnchor="end">
          {formatLatency(max)}
        </text>
        <text x={pad.l - 6} y={y(max / 2) + 4} textAnchor="end">
          {formatLatency(max / 2)}
        </text>
        <text x={pad.l - 6} y={H - pad.b + 4} textAnchor="end">
          0
        </text>
        <text x={pad.l} y={H - 8}>
          {formatTime(first.at)}
        </text>
        <text x={W - pad.r} y={H - 8} textAnchor="end">
          {formatTime(last.at)}
        </text>
        {points.length > 1 ? <polyline className="line" points={path} /> : null}
        {points.map((p, i) => (
          <circle key={i} className="dot-ok" cx={x(i)} cy={y(p.latencyMs)} r={points.length > 60 ? 1.5 : 3}>
            <title>{`${formatTime(p.at)}: ${formatLatency(p.latencyMs)}`}</title>
          </circle>
        ))}
      </svg>
      <figcaption className="muted small">{summary}</figcaption>
    </figure>
  );
}

/** One cell per probe, oldest first: green when up, red when down. */
export function UptimeBar({ history }: { history: ProbeRecord[] }) {
  if (history.length === 0) return <p className="muted">Not probed yet.</p>;
  const ok = history.filter((h) => h.ok).length;
  return (
    <div className="uptime-bar" role="img" aria-label={`${ok} of ${history.length} recent probes succeeded`}>
      {history.map((h, i) => (
        <span key={i} className={h.ok ? "ok" : "fail"} title={`${formatTime(h.at)}: ${h.ok ? "ok" : (h.reason ?? "failed")}`} />
      ))}
    </div>
  );
}
