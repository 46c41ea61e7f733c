/**
 * The run's verdicts: one row per target (ours, baseline, ratio, target, met?), rendered as a markdown
 * table (bench/results/latest.md) and a bar chart of each ratio against its target (latest.svg, plain SVG).
 */
export interface Row {
  scenario: string;
  ours: string;
  baseline: string;
  /** ours / baseline for "at least" targets; the measured value for limits (p99, RSS). */
  ratio: number;
  /** The bar: the ratio the target asks for, or the limit. */
  target: number;
  kind: 'at-least' | 'at-most';
  unit: string;
}

export const met = (row: Row) =>
  row.kind === 'at-least' ? row.ratio >= row.target : row.ratio <= row.target;

const fmt = (n: number) => (Number.isFinite(n) ? String(Math.round(n * 100) / 100) : 'n/a');
const targetText = (row: Row) => `${row.kind === 'at-least' ? '≥' : '≤'} ${row.target}${row.unit}`;

export function markdown(rows: Row[], notes: string[]): string {
  const lines = [
    '| scenario | ours | baseline | ratio | target | met? |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.ours} | ${r.baseline} | ${fmt(r.ratio)}${r.unit} | ${targetText(r)} | ${met(r) ? 'yes' : '**no**'} |`,
    ),
  ];
  return `${[...lines, '', ...notes].join('\n')}\n`;
}

const xml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * One bar per row: how far the run got relative to its target (ratio / target for "at least", limit /
 * value for "at most"), so every target sits on the same line at 1.0; bars past it are met (green).
 */
export function svg(rows: Row[], title: string): string {
  const labelW = 330;
  const plotW = 420;
  const rowH = 26;
  const top = 40;
  const scaleMax = 2;
  const height = top + rows.length * rowH + 40;
  const width = labelW + plotW + 190;
  const x = (score: number) => labelW + (Math.min(score, scaleMax) / scaleMax) * plotW;
  const bars = rows.map((r, i) => {
    const score = r.kind === 'at-least' ? r.ratio / r.target : r.target / Math.max(r.ratio, 1e-9);
    const y = top + i * rowH;
    const color = met(r) ? '#2e9d57' : '#d0453a';
    return [
      `<text x="${labelW - 8}" y="${y + 17}" text-anchor="end">${xml(r.scenario)}</text>`,
      `<rect x="${labelW}" y="${y + 5}" width="${Math.max(1, x(score) - labelW).toFixed(1)}" height="${rowH - 10}" fill="${color}"/>`,
      `<text x="${x(score) + 6}" y="${y + 17}">${xml(`${fmt(r.ratio)}${r.unit} (target ${targetText(r)})`)}</text>`,
    ].join('');
  });
  const axis = [0, 0.5, 1, 1.5, 2].map(
    (t) =>
      `<line x1="${x(t)}" y1="${top}" x2="${x(t)}" y2="${height - 35}" stroke="${t === 1 ? '#000' : '#ddd'}" stroke-width="${t === 1 ? 2 : 1}"/><text x="${x(t)}" y="${height - 20}" text-anchor="middle">${t}×</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12" role="img" aria-label="${xml(title)}">
<title>${xml(title)}</title>
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="22" font-size="14" font-weight="bold">${xml(title)}</text>
${axis.join('\n')}
${bars.join('\n')}
<text x="${labelW}" y="${height - 5}" fill="#666">bar = share of the target reached (1× = target met exactly; capped at 2×)</text>
</svg>
`;
}
