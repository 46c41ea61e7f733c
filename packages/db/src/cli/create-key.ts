import { parseArgs } from 'node:util';
import { SCOPES, type Scope, splitList } from '@conveyor/shared';
import { createDb } from '../client';
import { createApiKey } from '../queries/api-keys';
import { createTenant } from '../queries/tenants';
import { loadCliConfig } from './config';
import { runCli } from './run';

/**
 * Creates a tenant (or uses --tenant) and an API key for it, and prints the key once.
 *   npm run create-key -- --name acme [--scopes jobs:read,jobs:write] [--tenant <id>]
 */
const { values } = parseArgs({
  options: {
    name: { type: 'string', default: 'default' },
    tenant: { type: 'string' },
    scopes: { type: 'string', default: SCOPES.join(',') },
  },
});

let url = '';
await runCli(
  () => url,
  async () => {
    url = loadCliConfig().DATABASE_URL;
    const scopes = splitList(values.scopes ?? '');
    const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
    if (unknown.length)
      throw new Error(`unknown scopes: ${unknown.join(', ')} (known: ${SCOPES.join(', ')})`);
    const { db, close } = createDb(url, { max: 1 });
    try {
      const tenantId = values.tenant ?? (await createTenant(db, values.name ?? 'default')).id;
      const created = await createApiKey(db, { tenantId, name: 'cli', scopes: scopes as Scope[] });
      console.log(
        `tenant:  ${tenantId}\nscopes:  ${scopes.join(',')}\napi key: ${created.key}\n(shown once; only its hash is stored)`,
      );
    } finally {
      await close();
    }
  },
);
