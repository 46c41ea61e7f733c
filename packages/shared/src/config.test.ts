import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, envBool, envInt, envLogLevel, envString, envUrl, parseEnv, splitList } from './config';

const schema = z.object({
  PORT: envInt(3000, 1, 65_535),
  DATABASE_URL: envUrl('postgres://localhost:5432/conveyor', ['postgres:', 'postgresql:']),
  REDIS_URL: envUrl('redis://localhost:6379', ['redis:', 'rediss:']),
  METRICS: envBool(true),
  LOG_LEVEL: envLogLevel(),
  SERVICE_NAME: envString('conveyor'),
});

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    parseEnv(schema, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected parseEnv to throw');
}

describe('parseEnv', () => {
  it('applies every default to an empty environment', () => {
    expect(parseEnv(schema, {})).toEqual({
      PORT: 3000,
      DATABASE_URL: 'postgres://localhost:5432/conveyor',
      REDIS_URL: 'redis://localhost:6379',
      METRICS: true,
      LOG_LEVEL: 'info',
      SERVICE_NAME: 'conveyor',
    });
  });

  it('parses given values', () => {
    const env = parseEnv(schema, {
      PORT: '8080',
      DATABASE_URL: 'postgresql://db:5432/x',
      REDIS_URL: 'rediss://cache:6380',
      METRICS: '0',
      LOG_LEVEL: 'debug',
      SERVICE_NAME: 'api',
    });
    expect(env).toEqual({
      PORT: 8080,
      DATABASE_URL: 'postgresql://db:5432/x',
      REDIS_URL: 'rediss://cache:6380',
      METRICS: false,
      LOG_LEVEL: 'debug',
      SERVICE_NAME: 'api',
    });
  });

  it('lists every bad variable by name, not only the first', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      DATABASE_URL: 'mysql://db/x',
      REDIS_URL: 'not a url',
      METRICS: 'yes',
      LOG_LEVEL: 'loud',
    });
    expect(problems).toHaveLength(5);
    for (const name of ['PORT', 'DATABASE_URL', 'REDIS_URL', 'METRICS', 'LOG_LEVEL']) {
      expect(
        problems.some((p) => p.startsWith(`${name}: `)),
        `${name} in ${JSON.stringify(problems)}`,
      ).toBe(true);
    }
  });

  it('names the variables in the error message too', () => {
    try {
      parseEnv(schema, { PORT: '0', METRICS: 'maybe' });
      expect.unreachable('parseEnv must throw');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as ConfigError).message;
      expect(message).toMatch(/PORT: /);
      expect(message).toMatch(/METRICS: /);
      expect((error as ConfigError).name).toBe('ConfigError');
    }
  });

  it('rejects an integer out of range or with a fraction', () => {
    expect(problemsOf({ PORT: '70000' })).toEqual([expect.stringMatching(/^PORT: /)]);
    expect(problemsOf({ PORT: '80.5' })).toEqual([expect.stringMatching(/^PORT: /)]);
  });

  it('treats an empty string as unset, so the default applies', () => {
    const env = parseEnv(schema, {
      PORT: '',
      DATABASE_URL: '',
      REDIS_URL: '',
      METRICS: '',
      LOG_LEVEL: '',
      SERVICE_NAME: '',
    });
    expect(env).toEqual(parseEnv(schema, {}));
  });
});

describe('envUrl', () => {
  const url = envUrl('redis://localhost:6379', ['redis:', 'rediss:']);

  it('rejects a URL with the wrong protocol, saying which ones are allowed', () => {
    const parsed = url.safeParse('http://localhost:6379');
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe('must be a URL starting with redis:// or rediss://');
  });

  it('rejects a value that is not a URL', () => {
    expect(url.safeParse('localhost:6379').success).toBe(false);
    expect(url.safeParse('::').success).toBe(false);
  });

  it('accepts each allowed protocol', () => {
    expect(url.parse('redis://a:1')).toBe('redis://a:1');
    expect(url.parse('rediss://a:1')).toBe('rediss://a:1');
  });
});

describe('envBool', () => {
  it('accepts true/false/1/0 only', () => {
    const bool = envBool(false);
    expect(bool.parse('true')).toBe(true);
    expect(bool.parse('1')).toBe(true);
    expect(bool.parse('false')).toBe(false);
    expect(bool.parse('0')).toBe(false);
    expect(bool.parse(undefined)).toBe(false);
    expect(bool.safeParse('TRUE').success).toBe(false);
  });
});

describe('splitList', () => {
  it('splits on commas, trims, and drops blanks', () => {
    expect(splitList(' emails, images,,  ,reports ')).toEqual(['emails', 'images', 'reports']);
    expect(splitList('')).toEqual([]);
  });
});
