import jwt from 'jsonwebtoken';
import type { Context, Middleware } from 'koa';
import koaJwt from 'koa-jwt';
import { z } from 'zod';
import { forbidden, notFound, unauthorized } from '../src/errors';

export const ROLES = ['admin', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

const claimsSchema = z.object({
  sub: z.string().min(1),
  role: z.enum(ROLES),
  account_ids: z.array(z.string()).default([]),
});
export type Claims = z.infer<typeof claimsSchema>;

/** Bearer JWT (HS256) on every /v1 route but the webhooks, which carry the platforms' own proof. */
export function requireToken(secret: string): Middleware {
  const verify = koaJwt({ secret, algorithms: ['HS256'], key: 'jwt' });
  return async (ctx, next) => {
    await verify(ctx, async () => {
      const claims = claimsSchema.safeParse(ctx.state.jwt);
      if (!claims.success) throw unauthorized('The token lacks valid sub, role or account_ids claims.');
      ctx.state.claims = claims.data;
      await next();
    });
  };
}

export function claimsOf(ctx: Context): Claims {
  return ctx.state.claims as Claims;
}

/**
 * Access to an account's resources: another account's resource is 404 (its existence is not
 * revealed), a viewer writing is 403.
 */
export function authorize(ctx: Context, accountId: string, access: 'read' | 'write', what = 'Resource'): void {
  const claims = claimsOf(ctx);
  if (claims.role !== 'admin' && !claims.account_ids.includes(accountId)) throw notFound(what);
  if (access === 'write' && claims.role === 'viewer') throw forbidden('Viewers may read but not change anything.');
  // The account a write touched, for the audit log.
  ctx.state.accountId = accountId;
}

export function signToken(secret: string, claims: Claims, expiresIn: jwt.SignOptions['expiresIn'] = '30d'): string {
  return jwt.sign(claims, secret, { algorithm: 'HS256', expiresIn });
}
