import { ACTIVE_STATUSES, type JobStatus } from '@conveyor/shared';
import { inArray } from 'drizzle-orm';
import { jobs } from '../schema/index';

/** `status IN ('queued','running','retrying')`: the predicate of the partial index jobs_active_idx. */
export const isActive = () => inArray(jobs.status, [...ACTIVE_STATUSES] as JobStatus[]);
