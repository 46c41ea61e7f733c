import { sql } from 'drizzle-orm';

/**
 * `status IN ('queued','running','retrying')` written as literals, exactly the predicate of the partial
 * index jobs_active_idx: with bound parameters a generic plan could not prove the index applies.
 */
export const isActive = () => sql`status IN ('queued', 'running', 'retrying')`;
