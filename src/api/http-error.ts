// The one way a route says no: throw an HttpError with the status and a message for the caller; the error
// handler in server.ts turns it (and Fastify's own 4xx errors) into { error } and hides anything else as 500.

export class HttpError extends Error {
  constructor(
    readonly statusCode: 400 | 401 | 403 | 404 | 409 | 413 | 421 | 429,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string) => new HttpError(400, message);
export const notFound = (message: string) => new HttpError(404, message);
export const conflict = (message: string) => new HttpError(409, message);
