import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { type Db, streamJobsForReport } from '@conveyor/db';
import type { ReportFormat } from '@conveyor/shared';
import { renderCsv } from '../reports/render-csv';
import { renderJson } from '../reports/render-json';
import { renderPdf } from '../reports/render-pdf';
import { type JobsSummary, JobsSummaryBuilder } from '../reports/summary';
import type { Handler } from './types';

/** Rows per FETCH: ~2 000 × 100 bytes in flight, a millisecond or two of work between yields. */
const BATCH_SIZE = 2_000;
/** Progress is written to Postgres at most this often, in ms. */
const PROGRESS_EVERY_MS = 250;
/** Reading is this share of the progress bar; rendering and storing take the rest. */
const READ_SHARE = 90;

const formats: Record<
  ReportFormat,
  { contentType: string; render: (s: JobsSummary) => Buffer | Promise<Buffer> }
> = {
  csv: { contentType: 'text/csv; charset=utf-8', render: renderCsv },
  json: { contentType: 'application/json', render: renderJson },
  pdf: { contentType: 'application/pdf', render: renderPdf },
};

/**
 * `report.generate`, report `jobs-summary`: the tenant's jobs created in [from, to), streamed from
 * Postgres batch by batch into fixed-size counters (memory does not grow with the number of jobs), then
 * rendered as one artifact. Between batches it checks its signal, records progress as the share of the
 * time range read (rows come in creation order), and yields to the event loop so BullMQ's lock renewal
 * and the cancel listener keep running. Idempotent: a retry rewrites the same artifact name.
 */
export function createReportGenerate(deps: { db: Db }): Handler<'report.generate'> {
  return async (payload, ctx) => {
    const from = new Date(payload.from);
    const to = new Date(payload.to);
    const groupBy = payload.groupBy ?? 'day';
    const builder = new JobsSummaryBuilder({ from, to, groupBy });
    const span = to.getTime() - from.getTime();
    let reported = 0;
    let reportedAt = performance.now();
    for await (const batch of streamJobsForReport(deps.db, {
      tenantId: ctx.tenantId,
      from,
      to,
      batchSize: BATCH_SIZE,
    })) {
      ctx.signal.throwIfAborted();
      builder.add(batch);
      const read = (batch.at(-1)!.createdMs - from.getTime()) / span;
      const percent = Math.min(READ_SHARE, Math.floor(read * READ_SHARE));
      if (percent > reported && performance.now() - reportedAt >= PROGRESS_EVERY_MS) {
        await ctx.progress(percent);
        [reported, reportedAt] = [percent, performance.now()];
      }
      await yieldToEventLoop();
    }
    ctx.signal.throwIfAborted();
    await ctx.progress(READ_SHARE);
    const summary = builder.finish(new Date());
    const format = formats[payload.format];
    const data = await format.render(summary);
    ctx.signal.throwIfAborted();
    const saved = await ctx.saveArtifact({
      name: `${payload.report}.${payload.format}`,
      contentType: format.contentType,
      data,
      metadata: {
        report: payload.report,
        from: summary.from,
        to: summary.to,
        groupBy,
        jobs: summary.totals.jobs,
      },
    });
    ctx.log.info(
      { jobs: summary.totals.jobs, bytes: saved.bytes, format: payload.format },
      'report generated',
    );
    const { jobs, byStatus, runTimeMs } = summary.totals;
    return { ...saved, totals: { jobs, byStatus, runTimeMs } };
  };
}
