import { describe, expect, it } from 'vitest';
import { HttpError } from '../../src/api/http-error.js';
import { queryTime } from '../../src/api/query-time.js';

describe('queryTime', () => {
  it('reads an ISO 8601 time, is undefined when absent unless required, and is a 400 naming the parameter otherwise', () => {
    expect(queryTime({ from: '2026-11-28T14:00:00+08:00' }, 'from')).toBe(Date.parse('2026-11-28T06:00:00Z'));
    expect(queryTime({}, 'from')).toBeUndefined();
    for (const [query, required] of [[{ to: 'yesterday' }, false], [{ to: '' }, false], [{}, true]] as const) {
      let error: unknown;
      try {
        queryTime(query, 'to', required);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(HttpError);
      expect((error as HttpError).statusCode).toBe(400);
      expect((error as HttpError).message).toBe('to must be an ISO 8601 time, e.g. 2026-11-28T14:00:00+08:00');
    }
  });
});
