/** The CLI's settings; the only module of the CLI that reads the environment. */
export interface CliConfig {
  /** The API's origin; CONVEYOR_URL, default http://127.0.0.1:3000. */
  url: string;
  /** A tenant API key for job commands; CONVEYOR_API_KEY. */
  apiKey: string | undefined;
  /** The deployment's ADMIN_TOKEN for `tenants` and `keys`; CONVEYOR_ADMIN_TOKEN. */
  adminToken: string | undefined;
}

const nonEmpty = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());

export function loadCliConfig(env: Record<string, string | undefined> = process.env): CliConfig {
  return {
    url: (nonEmpty(env.CONVEYOR_URL) ?? 'http://127.0.0.1:3000').replace(/\/+$/, ''),
    apiKey: nonEmpty(env.CONVEYOR_API_KEY),
    adminToken: nonEmpty(env.CONVEYOR_ADMIN_TOKEN),
  };
}
