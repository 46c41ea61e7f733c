import { envUrl, parseEnv } from '@conveyor/shared';
import { z } from 'zod';

/** The database CLIs' configuration: only where the database is. */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/conveyor';

export const loadCliConfig = () =>
  parseEnv(
    z.object({ DATABASE_URL: envUrl(DEFAULT_DATABASE_URL, ['postgres:', 'postgresql:']) }),
    process.env,
  );
