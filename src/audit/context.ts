/**
 * What an audit record needs to know of the request it belongs to (client address, user agent,
 * request id, the search asked), carried along the request's asynchronous path so that the
 * capabilities deep below the HTTP shell need not pass it through every call.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestContext {
  requestId: string;
  ip?: string;
  userAgent?: string;
  /** The query string of a search, as asked. */
  query?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` (and everything it starts) inside the context of one request. */
export function withRequest<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}
