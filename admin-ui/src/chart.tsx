/** A uPlot line chart of one value per day and group; redrawn when its data changes, resized with its box. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { DailySeries } from './api.ts';

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];

interface ChartProps {
  title: string;
  series: DailySeries;
  /** How a value reads on the axis and in the legend. */
  format: (value: number) => string;
  /** Shorter names for groups (key ids → key names). */
  label?: (group: string) => string;
}

export function DailyChart({ title, series, format, label = (g) => g }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const groups = Object.keys(series.groups).sort();
  const total = groups.reduce((sum, g) => sum + (series.groups[g] ?? []).reduce((a, b) => a + b, 0), 0);

  useEffect(() => {
    const el = box.current;
    const groups = Object.keys(series.groups).sort();
    if (!el || groups.length === 0) return;
    const xs = series.days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
    const data: uPlot.AlignedData = [xs, ...groups.map((g) => series.groups[g] ?? [])];
    const plot = new uPlot(
      {
        width: Math.max(el.clientWidth, 280),
        height: 220,
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
        axes: [
          { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.2)' } },
          {
            stroke: 'currentColor',
            size: 70,
            values: (_u, ticks) => ticks.map(format),
            grid: { stroke: 'rgba(128,128,128,0.2)' },
          },
        ],
        series: [
          { value: (_u, v) => (v == null ? '' : new Date(v * 1000).toISOString().slice(0, 10)) },
          ...groups.map((g, i) => ({
            label: label(g),
            stroke: PALETTE[i % PALETTE.length],
            width: 2,
            points: { size: 6 },
            value: (_u: uPlot, v: number | null) => (v == null ? '' : format(v)),
          })),
        ],
      },
      data,
      el,
    );
    const observer = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(el.clientWidth, 280), height: 220 }),
    );
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [series, format, label]);

  return (
    <figure class="chart" data-total={String(Math.round(total * 1e6) / 1e6)} aria-label={title}>
      <figcaption>{title}</figcaption>
      {groups.length === 0 ? (
        <p class="empty">No requests in this window yet.</p>
      ) : (
        <div ref={box} class="chart-box" />
      )}
    </figure>
  );
}
