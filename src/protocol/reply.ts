/**
 * The one mapping from an error to the reply dockerd receives.
 *
 * dockerd reads `Err` from any non-200 reply and shows it as
 * "<Interface>.<Method>: <message>" for both drivers. On HTTP 200 it reads
 * `Err` for NetworkDriver calls but `Error` for IpamDriver calls, and a 200
 * with the wrong field is silently ignored. Errors therefore always use a
 * non-200 status, so no IPAM error can be lost.
 */
import { z } from 'zod';
import { KuryrError, formatIssues } from '../errors.js';

export interface Reply {
  status: number;
  body: Record<string, unknown>;
}

export function errorReply(error: unknown): Reply {
  const message = errorMessage(error);
  const status = error instanceof KuryrError && isClientError(error) ? 400 : 500;
  return { status, body: { Err: message } };
}

function isClientError(error: KuryrError): boolean {
  return error.code === 'INVALID_REQUEST' || error.code === 'INVALID_OPTION';
}

export function errorMessage(error: unknown): string {
  if (error instanceof z.ZodError) return formatZodError(error);
  if (error instanceof Error) return error.message;
  return String(error);
}

export function formatZodError(error: z.ZodError): string {
  return formatIssues(error.issues);
}

/** Wraps a schema failure as an INVALID_REQUEST naming the verb and each offending field. */
export function invalidRequest(verb: string, error: z.ZodError): KuryrError {
  return new KuryrError('INVALID_REQUEST', `invalid ${verb} request: ${formatZodError(error)}`, { cause: error });
}
