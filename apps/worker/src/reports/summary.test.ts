import type { ReportJobRow } from '@conveyor/db';
import { describe, expect, it } from 'vitest';
import { renderCsv } from './render-csv';
import { renderJson } from './render-json';
import { JobsSummaryBuilder } from './summary';

const from = new Date('2025-01-30T12:00:00Z');
const to = new Date('2025-02-02T00:00:00Z');
const at = (iso: string) => Date.parse(iso);

const rows: ReportJobRow[] = [
  { type: 'noop', status: 'succeeded', createdMs: at('2025-01-30T12:00:00Z'), runMs: 100 },
  { type: 'noop', status: 'failed', createdMs: at('2025-01-30T23:59:59.999Z'), runMs: 300 },
  { type: 'email.send', status: 'queued', createdMs: at('2025-02-01T00:00:00Z'), runMs: null },
  { type: 'email.send', status: 'succeeded', createdMs: at('2025-02-01T08:00:00Z'), runMs: 200 },
];

const build = (groupBy: 'day' | 'type' | 'status') => {
  const builder = new JobsSummaryBuilder({ from, to, groupBy });
  builder.add(rows.slice(0, 1));
  builder.add(rows.slice(1));
  return builder.finish(new Date('2025-03-01T00:00:00Z'));
};

describe('JobsSummaryBuilder', () => {
  it('totals by status (all six), type and UTC day, with run-time percentiles', () => {
    const { totals } = build('day');
    expect(totals).toEqual({
      jobs: 4,
      byStatus: { queued: 1, running: 0, retrying: 0, succeeded: 2, failed: 1, canceled: 0 },
      byType: { 'email.send': 2, noop: 2 },
      byDay: { '2025-01-30': 2, '2025-02-01': 2 },
      runTimeMs: { count: 3, p50: 200, p95: 300 },
    });
  });

  it('lists every UTC day the range touches when grouping by day, empty days included', () => {
    const summary = build('day');
    expect(summary.groups.map((g) => [g.key, g.jobs])).toEqual([
      ['2025-01-30', 2],
      ['2025-01-31', 0],
      ['2025-02-01', 2],
    ]);
    expect(summary.groups[1]!.runTimeMs).toEqual({ count: 0, p50: null, p95: null });
  });

  it('groups by type in key order, and by status with all six', () => {
    expect(build('type').groups.map((g) => [g.key, g.jobs, g.runTimeMs.count])).toEqual([
      ['email.send', 2, 1],
      ['noop', 2, 2],
    ]);
    expect(build('status').groups.map((g) => [g.key, g.jobs])).toEqual([
      ['queued', 1],
      ['running', 0],
      ['retrying', 0],
      ['succeeded', 2],
      ['failed', 1],
      ['canceled', 0],
    ]);
  });
});

describe('renderers', () => {
  it('writes CSV: a header named after groupBy, one row per group, then a total row', () => {
    const lines = renderCsv(build('type')).toString('utf8').split('\r\n');
    expect(lines).toEqual([
      'type,jobs,queued,running,retrying,succeeded,failed,canceled,run_time_count,run_time_p50_ms,run_time_p95_ms',
      'email.send,2,1,0,0,1,0,0,1,200,200',
      'noop,2,0,0,0,1,1,0,2,100,300',
      'total,4,1,0,0,2,1,0,3,200,300',
      '',
    ]);
  });

  it('quotes CSV fields holding commas or quotes and leaves missing percentiles empty', () => {
    const builder = new JobsSummaryBuilder({ from, to, groupBy: 'type' });
    builder.add([{ type: 'odd,"type"', status: 'queued', createdMs: from.getTime(), runMs: null }]);
    const lines = renderCsv(builder.finish(new Date())).toString('utf8').split('\r\n');
    expect(lines[1]).toBe('"odd,""type""",1,1,0,0,0,0,0,0,,');
  });

  it('writes JSON that reads back as the summary', () => {
    const summary = build('status');
    expect(JSON.parse(renderJson(summary).toString('utf8'))).toEqual(summary);
  });
});
