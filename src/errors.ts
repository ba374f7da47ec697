/**
 * The one error tree of kuryr-ts. Every error carries a stable `code` that
 * logs, tests and the protocol layer branch on, and an optional `cause`.
 */

export type ErrorCode =
  | 'INVALID_REQUEST'
  | 'INVALID_OPTION'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'NEUTRON_ERROR'
  | 'NEUTRON_UNREACHABLE'
  | 'KEYSTONE_UNREACHABLE'
  | 'AUTH_FAILED'
  | 'BINDING_FAILED'
  | 'COMMAND_FAILED'
  | 'TIMEOUT'
  | 'CONFIG_INVALID'
  | 'INTERNAL';

export class KuryrError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KuryrError';
    this.code = code;
  }
}

/** An error reply from Neutron or Keystone, with the HTTP status and the server's message. */
export class OpenStackHttpError extends KuryrError {
  readonly status: number;
  readonly method: string;
  readonly url: string;
  /** Neutron's fault type, for example `SubnetPoolInUse` or `OverQuota`, when the body names one. */
  readonly faultType: string | undefined;

  constructor(args: {
    status: number;
    method: string;
    url: string;
    serverMessage: string;
    faultType?: string;
    code?: ErrorCode;
    /** Description of the failed operation, for example `delete subnet pool "4f1c…"`. When given, it leads the message. */
    operation?: string;
  }) {
    const code = args.code ?? httpStatusToCode(args.status);
    const reply = `${args.method} ${args.url} returned HTTP ${args.status}: ${args.serverMessage}`;
    super(code, args.operation === undefined ? reply : `${args.operation} failed: ${reply}`);
    this.name = 'OpenStackHttpError';
    this.status = args.status;
    this.method = args.method;
    this.url = args.url;
    this.faultType = args.faultType;
  }
}

/** A failed host command; `argv` never contains secrets because no secret reaches a command line. */
export class CommandError extends KuryrError {
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly stderr: string;

  constructor(argv: readonly string[], exitCode: number | null, stderr: string, options?: { cause?: unknown }) {
    const detail = stderr.trim() || `exit code ${exitCode ?? 'unknown'}`;
    super('COMMAND_FAILED', `command "${argv.join(' ')}" failed: ${detail}`, options);
    this.name = 'CommandError';
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

export function httpStatusToCode(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'AUTH_FAILED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409 || status === 412) return 'CONFLICT';
  if (status === 400) return 'INVALID_REQUEST';
  return 'NEUTRON_ERROR';
}

/** Returns true when `error` is an OpenStack reply with the given HTTP status. */
export function isHttpStatus(error: unknown, status: number): boolean {
  return error instanceof OpenStackHttpError && error.status === status;
}

/** Formats schema issues as "field.path: message; ..." for error replies and config errors. */
export function formatIssues(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.map(String).join('.') : 'body';
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}
