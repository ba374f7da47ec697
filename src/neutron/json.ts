/**
 * Helpers for reading JSON reply bodies at the edge.
 */
import type { z } from 'zod';
import { formatIssues } from '../errors.js';

/** Maximum number of schema issues quoted in an error message about a malformed reply. */
const MAX_QUOTED_ISSUES = 3;

/** Parses `body` as JSON, returning undefined for an empty or malformed body so the schema check reports it. */
export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Describes why a reply failed its schema, quoting the first few issues, for example `ports.0.fixed_ips: Invalid input`. */
export function describeSchemaError(error: z.ZodError): string {
  return formatIssues(error.issues.slice(0, MAX_QUOTED_ISSUES));
}
