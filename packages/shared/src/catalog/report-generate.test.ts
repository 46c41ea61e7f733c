import { describe, expect, it } from 'vitest';
import { catalog } from './index';
import { reportGeneratePayload, reportGenerateResult } from './report-generate';

const valid = {
  report: 'jobs-summary',
  from: '2025-01-01T00:00:00Z',
  to: '2025-02-01T00:00:00+01:00',
  format: 'csv',
};
const issuesOf = (payload: unknown) =>
  reportGeneratePayload.safeParse(payload).error?.issues.map((i) => [i.path.join('.'), i.message]);

describe('report.generate payload', () => {
  it('is in the catalog on the reports queue', () => {
    expect(catalog['report.generate'].queue).toBe('reports');
    expect(catalog['report.generate'].payload).toBe(reportGeneratePayload);
  });

  it('accepts RFC 3339 times with Z or an offset, every format and grouping', () => {
    for (const format of ['csv', 'json', 'pdf'])
      for (const groupBy of [undefined, 'type', 'day', 'status'])
        expect(reportGeneratePayload.safeParse({ ...valid, format, groupBy }).success).toBe(true);
    expect(reportGeneratePayload.safeParse({ ...valid, from: '2025-01-01T00:00:00.123456Z' }).success).toBe(
      true,
    );
  });

  it('wants from before to', () => {
    expect(issuesOf({ ...valid, to: valid.from })).toEqual([['to', 'must be after from']]);
    expect(issuesOf({ ...valid, from: '2025-03-01T00:00:00Z' })).toEqual([['to', 'must be after from']]);
  });

  it('allows at most 366 days', () => {
    const from = '2024-01-01T00:00:00Z';
    expect(reportGeneratePayload.safeParse({ ...valid, from, to: '2025-01-01T00:00:00Z' }).success).toBe(
      true,
    );
    expect(issuesOf({ ...valid, from, to: '2025-01-01T00:00:00.001Z' })).toEqual([
      ['to', 'the range may cover at most 366 days'],
    ]);
  });

  it('rejects dates without a time, times without an offset, unknown reports, formats and fields', () => {
    expect(reportGeneratePayload.safeParse({ ...valid, from: '2025-01-01' }).success).toBe(false);
    expect(reportGeneratePayload.safeParse({ ...valid, from: '2025-01-01T00:00:00' }).success).toBe(false);
    expect(reportGeneratePayload.safeParse({ ...valid, report: 'invoices' }).success).toBe(false);
    expect(reportGeneratePayload.safeParse({ ...valid, format: 'xlsx' }).success).toBe(false);
    expect(reportGeneratePayload.safeParse({ ...valid, groupBy: 'hour' }).success).toBe(false);
    expect(reportGeneratePayload.safeParse({ ...valid, tenantId: 'x' }).success).toBe(false);
  });
});

describe('report.generate result', () => {
  it('wants a count for every status', () => {
    const result = {
      artifactId: 'a',
      name: 'jobs-summary.csv',
      contentType: 'text/csv',
      bytes: 10,
      totals: {
        jobs: 1,
        byStatus: { queued: 1, running: 0, retrying: 0, succeeded: 0, failed: 0, canceled: 0 },
        runTimeMs: { count: 0, p50: null, p95: null },
      },
    };
    expect(reportGenerateResult.safeParse(result).success).toBe(true);
    const { queued: _, ...missing } = result.totals.byStatus;
    expect(
      reportGenerateResult.safeParse({ ...result, totals: { ...result.totals, byStatus: missing } }).success,
    ).toBe(false);
  });
});
