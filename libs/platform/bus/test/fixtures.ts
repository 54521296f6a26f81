import type { TenantView, UserView } from '@musubi/contracts';

/** Payloads the bus tests send and expect: valid by the contracts, fixed so assertions can compare them. */
export const TENANT = '0191d5a4-6c1e-7a2b-8c3d-4e5f60718293';
export const STAMP = '2024-05-01T00:00:00.000Z';

export const tenantView = (id: string): TenantView => ({
  id,
  slug: 'acme',
  displayName: 'Acme',
  status: 'active',
  timeZone: 'Asia/Tokyo',
  defaultLocale: 'ja-JP',
  limits: { users: 100, groups: 10 },
  settings: { deletionRetentionDays: 30, syncedUsersReadOnly: true },
  platformDomain: 'acme.musubi.test',
  createdAt: STAMP,
  updatedAt: STAMP,
  version: 1,
});

export const userView = (id: string): UserView => ({
  id,
  tenantId: TENANT,
  loginId: 'a@acme.test',
  displayName: 'A',
  familyName: null,
  givenName: null,
  email: null,
  roles: [],
  status: 'active',
  createdAt: STAMP,
  updatedAt: STAMP,
  version: 1,
});
