/** The services of the fleet. A subject's second segment is always one of these. */
export const SERVICE_NAMES = ['gateway', 'authn', 'directory', 'federation', 'mfa', 'keys', 'audit', 'billing'] as const;

export type ServiceName = (typeof SERVICE_NAMES)[number];
