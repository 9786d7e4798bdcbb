// A time in a query string (from=, to=), as every route that takes one reads it: ISO 8601, or a 400 naming
// the parameter and showing the form.
import { badRequest } from './http-error.js';

/** The time in query parameter `name`, in ms; undefined when it is absent and not `required`. */
export function queryTime(query: Record<string, string | undefined>, name: string, required: true): number;
export function queryTime(query: Record<string, string | undefined>, name: string, required?: boolean): number | undefined;
export function queryTime(query: Record<string, string | undefined>, name: string, required = false): number | undefined {
  const value = query[name];
  if (value === undefined && !required) return undefined;
  const ms = value === undefined ? NaN : Date.parse(value);
  if (Number.isNaN(ms)) throw badRequest(`${name} must be an ISO 8601 time, e.g. 2026-11-28T14:00:00+08:00`);
  return ms;
}
