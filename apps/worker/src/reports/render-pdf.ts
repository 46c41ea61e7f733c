import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { JOB_STATUSES, type JobStatus } from '@conveyor/shared';
import PDFDocument from 'pdfkit';
import type { GroupSummary, JobsSummary } from './summary';

/** Table rows per page after the first: page count is 1 + ⌈groups / 40⌉ (at least 2). */
export const PDF_ROWS_PER_PAGE = 40;

type Doc = PDFKit.PDFDocument;

const MARGIN = 50;
const PAGE_WIDTH = 595.28; // A4, in pt
const WIDTH = PAGE_WIDTH - 2 * MARGIN;
const STATUS_COLORS: Record<JobStatus, string> = {
  succeeded: '#2e7d32',
  failed: '#c62828',
  canceled: '#9e9e9e',
  retrying: '#ef6c00',
  running: '#f9a825',
  queued: '#1565c0',
};
/** Stacking order, bottom up: outcomes first. */
const STACK: JobStatus[] = ['succeeded', 'failed', 'canceled', 'retrying', 'running', 'queued'];

const int = (value: number) => value.toLocaleString('en-US');
const ms = (value: number | null) => (value === null ? '–' : `${int(value)} ms`);

/** The smallest 1, 2 or 5 × 10^k at or above `value` (an axis maximum). */
function niceCeil(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((m) => m * power >= value) ?? 10) * power;
}

/*
 * pdfkit is synchronous and costs ~0.1 ms per text or shape call, so text is placed by hand (no `width` /
 * `align`, which run its line wrapper), shapes of one colour share one fill, and renderPdf yields to the
 * event loop between pages.
 */
const textRight = (doc: Doc, text: string, right: number, y: number) =>
  doc.text(text, right - doc.widthOfString(text), y, { lineBreak: false });
const textCentre = (doc: Doc, text: string, centre: number, y: number) =>
  doc.text(text, centre - doc.widthOfString(text) / 2, y, { lineBreak: false });

function header(doc: Doc, s: JobsSummary): void {
  doc.font('Helvetica-Bold').fontSize(20).fillColor('#000').text('Jobs summary', MARGIN, MARGIN);
  doc
    .font('Helvetica')
    .fontSize(10)
    .fillColor('#444')
    .text(`${s.from} to ${s.to} (created in range, UTC) · grouped by ${s.groupBy}`, MARGIN, MARGIN + 28)
    .text(`Generated ${s.generatedAt}`, MARGIN, MARGIN + 42);
  const t = s.totals;
  doc
    .font('Helvetica-Bold')
    .fontSize(12)
    .fillColor('#000')
    .text(`${int(t.jobs)} jobs`, MARGIN, MARGIN + 66);
  doc
    .font('Helvetica')
    .fontSize(10)
    .text(JOB_STATUSES.map((st) => `${st} ${int(t.byStatus[st])}`).join(' · '), MARGIN, MARGIN + 84)
    .text(
      `Run time (${int(t.runTimeMs.count)} succeeded or failed): p50 ${ms(t.runTimeMs.p50)} · p95 ${ms(t.runTimeMs.p95)}`,
      MARGIN,
      MARGIN + 98,
    );
}

/** Bars of jobs per group, stacked by status, with a y axis, sparse x labels and a legend. */
function chart(doc: Doc, s: JobsSummary, top: number): void {
  const height = 260;
  const left = MARGIN + 40;
  const width = WIDTH - 40;
  const bottom = top + 24 + height;
  doc.font('Helvetica-Bold').fontSize(12).fillColor('#000').text(`Jobs per ${s.groupBy}`, MARGIN, top);
  const max = niceCeil(Math.max(0, ...s.groups.map((g) => g.jobs)));
  doc.font('Helvetica').fontSize(7).fillColor('#444');
  const ticks = [0, 1, 2, 3, 4].map((i) => ({ y: bottom - (height * i) / 4, label: int((max * i) / 4) }));
  // A path must be painted before any text is drawn: grid lines first, then their labels.
  for (const { y } of ticks) doc.moveTo(left, y).lineTo(left + width, y);
  doc.lineWidth(0.3).strokeColor('#ccc').stroke();
  for (const { y, label } of ticks) textRight(doc, label, left - 4, y - 3);

  const n = s.groups.length;
  const slot = n > 0 ? width / n : width;
  const base = s.groups.map(() => bottom);
  for (const status of STACK) {
    let any = false;
    s.groups.forEach((g, i) => {
      const h = (g.byStatus[status] / max) * height;
      if (h <= 0) return;
      doc.rect(left + i * slot + slot * 0.1, base[i]! - h, Math.max(0.5, slot * 0.8), h);
      base[i]! -= h;
      any = true;
    });
    if (any) doc.fill(STATUS_COLORS[status]);
  }

  doc.fillColor('#444');
  const labelEvery = Math.max(1, Math.ceil(n / (s.groupBy === 'day' ? 10 : 8)));
  s.groups.forEach((g, i) => {
    if (i % labelEvery === 0)
      textCentre(doc, s.groupBy === 'day' ? g.key.slice(5) : g.key, left + (i + 0.5) * slot, bottom + 4);
  });
  if (s.totals.jobs === 0)
    textCentre(doc.fontSize(10), 'No jobs in this range.', left + width / 2, top + 24 + height / 2 - 5);
  doc.fontSize(8);
  STACK.forEach((status, i) => {
    doc.rect(left + i * 70, bottom + 20, 8, 8).fill(STATUS_COLORS[status]);
    doc.fillColor('#000').text(status, left + i * 70 + 11, bottom + 20, { lineBreak: false });
  });
}

const COLUMNS: { title: string; width: number; value: (g: GroupSummary) => string }[] = [
  { title: '', width: 95, value: (g) => g.key },
  { title: 'jobs', width: 50, value: (g) => int(g.jobs) },
  ...STACK.map((status) => ({
    title: status,
    width: 45,
    value: (g: GroupSummary) => int(g.byStatus[status]),
  })),
  {
    title: 'p50',
    width: 40,
    value: (g) => (g.runTimeMs.p50 === null ? '–' : int(Math.round(g.runTimeMs.p50))),
  },
  {
    title: 'p95',
    width: 40,
    value: (g) => (g.runTimeMs.p95 === null ? '–' : int(Math.round(g.runTimeMs.p95))),
  },
];

/** One table row: the key left-aligned, every other column right-aligned. */
function row(doc: Doc, y: number, cells: string[], bold: boolean): void {
  doc
    .font(bold ? 'Helvetica-Bold' : 'Helvetica')
    .fontSize(8)
    .fillColor('#000');
  let x = MARGIN;
  cells.forEach((text, i) => {
    const { width } = COLUMNS[i]!;
    if (i === 0) doc.text(text, x, y, { lineBreak: false });
    else textRight(doc, text, x + width - 4, y);
    x += width;
  });
}

/** One page of the table, with its column titles; the last page ends with the totals row. */
function tablePage(doc: Doc, s: JobsSummary, page: number, pages: number): void {
  const cellsOf = (g: GroupSummary) => COLUMNS.map((c) => c.value(g));
  doc.addPage();
  const title = `Jobs per ${s.groupBy}${pages > 1 ? ` (${page + 1}/${pages})` : ''}; run times in ms`;
  doc.font('Helvetica-Bold').fontSize(12).fillColor('#000').text(title, MARGIN, MARGIN);
  row(
    doc,
    MARGIN + 24,
    COLUMNS.map((c, i) => (i === 0 ? s.groupBy : c.title)),
    true,
  );
  const rows = s.groups.slice(page * PDF_ROWS_PER_PAGE, (page + 1) * PDF_ROWS_PER_PAGE);
  for (const [i, g] of rows.entries()) row(doc, MARGIN + 40 + i * 16, cellsOf(g), false);
  if (page === pages - 1)
    row(doc, MARGIN + 44 + rows.length * 16, cellsOf({ key: 'total', ...s.totals }), true);
}

/**
 * A4 PDF: page 1 has the totals and a bar chart of jobs per group stacked by status; the following pages
 * hold the table. Built in memory: its size follows the number of groups (≤ 367), not of jobs.
 */
export async function renderPdf(summary: JobsSummary): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    info: { Title: `Jobs summary ${summary.from} – ${summary.to}`, Creator: 'Conveyor' },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  header(doc, summary);
  chart(doc, summary, MARGIN + 130);
  const pages = Math.max(1, Math.ceil(summary.groups.length / PDF_ROWS_PER_PAGE));
  for (let page = 0; page < pages; page++) {
    await yieldToEventLoop();
    tablePage(doc, summary, page, pages);
  }
  doc.end();
  return done;
}
