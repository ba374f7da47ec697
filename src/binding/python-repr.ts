/**
 * Python's `repr()` of JSON values, which kuryr-lib passes to binding scripts as `vif_details`.
 * Vendor scripts grep that text (kuryr-lib's `ovs` script looks for `'ovs_hybrid_plug': True`),
 * so the format must match CPython 3 byte for byte on the values Neutron sends.
 */

/**
 * Formats a JSON value as CPython 3's `repr()` formats the object `json.loads` returns: dicts as
 * `{'key': value, ...}` in key order, lists as `[a, b]`, `True`, `False`, `None`, and strings
 * quoted as `str.__repr__` quotes them.
 *
 * NOTE: JSON numbers lose their form in JavaScript, so `1.0` prints as `1` where Python prints
 * `1.0`, and integer-like object keys come first because JavaScript orders them so. Neither
 * occurs in the vif_details of the in-tree Neutron mechanism drivers.
 */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return pythonNumber(value);
  if (typeof value === 'string') return pythonString(value);
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (typeof value === 'object') {
    const items = Object.entries(value as Record<string, unknown>).map(([key, item]) => `${pythonString(key)}: ${pythonRepr(item)}`);
    return `{${items.join(', ')}}`;
  }
  return pythonString(String(value));
}

function pythonNumber(value: number): string {
  if (Number.isInteger(value)) return BigInt(value).toString();
  // Python switches to exponent notation from 1e16 and below 1e-4; JavaScript from 1e21 and below 1e-6.
  const magnitude = Math.abs(value);
  if (magnitude >= 1e16 || magnitude < 1e-4) return value.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return String(value);
}

/** Characters `str.isprintable()` rejects: other, separator and unassigned categories, except the space. */
const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** Quotes like `str.__repr__`: single quotes unless the text has `'` and no `"`. */
export function pythonString(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let body = '';
  for (const character of text) {
    body += escapeCharacter(character, quote);
  }
  return `${quote}${body}${quote}`;
}

function escapeCharacter(character: string, quote: string): string {
  switch (character) {
    case '\\':
      return '\\\\';
    case '\t':
      return '\\t';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case quote:
      return `\\${quote}`;
    default:
      break;
  }
  if (character === ' ' || !NOT_PRINTABLE.test(character)) return character;
  const code = character.codePointAt(0) ?? 0;
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\U${code.toString(16).padStart(8, '0')}`;
}
