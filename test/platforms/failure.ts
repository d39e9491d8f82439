import type { PlatformApiError } from '../../src/platforms';

/** The error a platform call rejects with; fails the test when the call succeeds. */
export async function failure<E extends Error = PlatformApiError>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (error) {
    return error as E;
  }
  throw new Error('expected the call to fail');
}
