/**
 * The process logger. Logs carry no patient data: request URLs are logged without their query
 * string (a search query is patient data), bodies are never logged, credentials are redacted.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export function createLogger(level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: ['req.headers.authorization', 'password', 'otp', 'token', '*.password', '*.otp', '*.token'], censor: '[redacted]' },
    },
    destination,
  );
}

export type { Logger };
