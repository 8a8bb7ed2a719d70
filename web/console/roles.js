// What the signed-in user may do, mirroring the API's rules
// (src/authz/policy.c) so the console never offers an action the server
// would refuse. The server still decides every request.

export const has = (me, role) => Boolean(me && me.roles && me.roles.includes(role));
const PLATFORM = ['sysadmin', 'secadmin', 'auditor'];
export const isPlatform = (me) => PLATFORM.some((r) => has(me, r));

export const can = {
  readCatalog: (me) => Boolean(me),
  createResource: (me) => has(me, 'steward'),
  manageResource: (me, res) => has(me, 'steward') && res.provider_org === me.org_code,
  importRecords: (me, res) => has(me, 'steward') && res.provider_org === me.org_code && res.status !== 'retired',
  requestShare: (me, res) => has(me, 'steward') && res.provider_org !== me.org_code && res.status === 'published'
    && res.share_type !== 'none',
  /** The provider's stewards read its records; consumers' readers through a grant (the server checks the grant). */
  lookupRecords: (me, res) => (res.provider_org === me.org_code
    ? has(me, 'steward')
    : ['steward', 'clerk', 'approver', 'inspector'].some((r) => has(me, r)) && res.status === 'published'),
  readSharing: (me) => has(me, 'steward') || has(me, 'org_admin'),
  decideShare: (me, sr) => has(me, 'steward') && sr.provider_org === me.org_code && sr.status === 'pending',
  revokeGrant: (me, g) => has(me, 'steward') && g.provider_org === me.org_code && g.status === 'active',
  readSubscriptions: (me) => has(me, 'steward') || has(me, 'org_admin'),
  readObjections: (me) => has(me, 'steward') || has(me, 'org_admin'),
  readConflicts: (me) => has(me, 'steward'),
  readAudit: (me) => has(me, 'auditor') || has(me, 'org_admin'),
  readUsers: (me) => has(me, 'secadmin') || has(me, 'org_admin'),
  readClients: (me) => has(me, 'secadmin') || has(me, 'org_admin'),
  readOrgs: (me) => Boolean(me),
};
