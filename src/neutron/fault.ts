/**
 * Turns an OpenStack error reply body into a one-line message and a fault type.
 */
import { z } from 'zod';
import { parseJson } from './json.js';

export interface ServerFault {
  message: string;
  /** Neutron's fault type, for example `IpAddressAlreadyAllocated`, when the body names one. */
  faultType: string | undefined;
}

const MAX_TEXT_LENGTH = 300;

// Neutron: {"NeutronError": {"type": "IpAddressAlreadyAllocated", "message": "...", "detail": ""}}
const neutronFaultSchema = z.looseObject({
  NeutronError: z.looseObject({ type: z.string().optional(), message: z.string() }),
});
// Keystone and the WSGI middleware in front of Neutron: {"error": {"code": 401, "title": "...", "message": "..."}}
const wrappedFaultSchema = z.looseObject({ error: z.looseObject({ message: z.string() }) });
const plainFaultSchema = z.looseObject({ message: z.string() });

/** Extracts the server's message and fault type. Without a known JSON shape, the message is the cleaned body text. */
export function parseFault(body: string): ServerFault {
  const json = parseJson(body);
  const neutron = neutronFaultSchema.safeParse(json);
  if (neutron.success) return fault(neutron.data.NeutronError.message, neutron.data.NeutronError.type);
  const wrapped = wrappedFaultSchema.safeParse(json);
  if (wrapped.success) return fault(wrapped.data.error.message, undefined);
  const plain = plainFaultSchema.safeParse(json);
  if (plain.success) return fault(plain.data.message, undefined);
  return fault(plainText(body), undefined);
}

function fault(message: string, faultType: string | undefined): ServerFault {
  // Our messages end without a period because Docker wraps them in its own
  // text. OpenStack messages usually end with one, so it is dropped here.
  const trimmed = message.trim().replace(/\.+$/, '');
  return { message: trimmed === '' ? 'the reply carries no error message' : trimmed, faultType };
}

/** Reduces an HTML or text body (a proxy's error page, webob's 404 text) to one short line. */
function plainText(body: string): string {
  const text = body
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > MAX_TEXT_LENGTH ? `${text.slice(0, MAX_TEXT_LENGTH)}…` : text;
}
