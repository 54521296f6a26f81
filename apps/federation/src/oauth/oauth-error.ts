import type { OAuthError, OAuthErrorCode } from '@musubi/contracts';

export const oauthError = (error: OAuthErrorCode, errorDescription: string): OAuthError => ({ kind: 'oauth_error', error, errorDescription });

export const isOAuthError = (v: unknown): v is OAuthError => typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'oauth_error';
