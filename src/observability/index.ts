export { createLogger, logFilePath, LOG_FORMATS, REDACT_PATHS, type LogFormat, type LoggerOptions } from './logger.js';
export { DaemonMetrics, neutronResource } from './metrics.js';
export { Readiness } from './readiness.js';
export { createObservabilityServer, parseListenAddress } from './http.js';
