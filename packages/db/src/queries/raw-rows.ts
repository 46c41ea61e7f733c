import { getTableColumns, is, SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';

/**
 * Row mapping between a drizzle table and postgres.js, for the few hot statements issued through the driver
 * directly. Why: building a multi-row INSERT through drizzle's query builder cost 12 % of a submit's CPU in a
 * profile (one SQL chunk walk per value); postgres.js's `sql(rows, columns)` builds the same statement in a
 * fraction of that. Values still go through each column's own drizzle mapping, so they read and write
 * exactly as through drizzle.
 */
export function rawRowMapper<T extends PgTable>(table: T) {
  const columns = Object.entries(getTableColumns(table));
  const names = columns.map(([, column]) => column.name);
  return {
    /** Column names in table order, for `sql(records, names)`. */
    names,
    /** A drizzle insert object as the driver's record: every column present, defaults filled in. */
    // biome-ignore lint/suspicious/noExplicitAny: postgres.js types a record's values by its own parameter types; drizzle's mapping decides them here.
    toRecord(values: T['$inferInsert']): Record<string, any> {
      const record: Record<string, unknown> = {};
      for (const [key, column] of columns) {
        let value = (values as Record<string, unknown>)[key];
        if (value === undefined) {
          if (!column.hasDefault) value = null;
          else if (is(column.default, SQL) || column.default === undefined)
            throw new Error(`column ${column.name} needs a value: its default is SQL`);
          else value = column.default;
        }
        record[column.name] = value === null ? null : column.mapToDriverValue(value);
      }
      return record;
    },
    /** A row the driver returned (snake_case, driver values) as drizzle would return it. */
    fromRow(raw: Record<string, unknown>): T['$inferSelect'] {
      const row: Record<string, unknown> = {};
      for (const [key, column] of columns) {
        const value = raw[column.name];
        row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
      }
      return row as T['$inferSelect'];
    },
  };
}
