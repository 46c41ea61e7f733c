import { migrateDatabase } from '../migrate';
import { loadCliConfig } from './config';
import { describeDatabase, runCli } from './run';

let url = '';
await runCli(
  () => url,
  async () => {
    url = loadCliConfig().DATABASE_URL;
    await migrateDatabase(url);
    console.log(`Migrations applied to ${describeDatabase(url)}.`);
  },
);
