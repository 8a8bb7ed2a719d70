// What the signed-in user may do, mirroring the API's rules
// (src/authz/policy.c) so the console never offers an action the server
// would refuse. The server still decides every request.

export const has = (me, role) => Boolean(me && me.roles && me.roles.includes(role));
const PLATFORM = ['sysadmin', 'secadmin', 'auditor'];
export const isPlatform = (me) => PLATFORM.some((r) => has(me, r));
/** The user's department is the data bureau (from /auth/me). */
export const inBureau = (me) => Boolean(me && me.data_bureau);

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
  /** The provider's stewards, and the data bureau's (who oversee every grant). */
  revokeGrant: (me, g) => has(me, 'steward') && (g.provider_org === me.org_code || inBureau(me)) && g.status === 'active',
  readSubscriptions: (me) => has(me, 'steward') || has(me, 'org_admin'),
  /** A consumer's steward subscribes through a grant of the department (the server checks the grant). */
  createSubscription: (me) => has(me, 'steward'),
  deleteSubscription: (me, s) => has(me, 'steward') && s.consumer_org === me.org_code,
  /** A consumer's steward objects to a value read through a grant (the server checks the grant and the item). */
  fileObjection: (me, res, rec) => has(me, 'steward') && res.provider_org !== me.org_code && Boolean(rec && rec.grant),
  readObjections: (me) => has(me, 'steward') || has(me, 'org_admin'),
  readConflicts: (me) => has(me, 'steward'),
  readAudit: (me) => has(me, 'auditor') || has(me, 'org_admin'),
  readUsers: (me) => has(me, 'secadmin') || has(me, 'org_admin'),
  readClients: (me) => has(me, 'secadmin') || has(me, 'org_admin'),
  readOrgs: (me) => Boolean(me),
  manageOrgs: (me) => has(me, 'sysadmin'),
  /** Copies of the database: the system admin. */
  manageBackups: (me) => has(me, 'sysadmin'),
  /** A security admin changes any account; an org admin those of its org, never a platform administrator's. */
  editUser: (me, u) => has(me, 'secadmin')
    || (has(me, 'org_admin') && u.org_code === me.org_code && !(u.roles || []).some((r) => PLATFORM.includes(r))),
  /** Nobody changes their own roles or status, or resets their own password (they change it instead). */
  editUserAccess: (me, u) => can.editUser(me, u) && u.username !== me.username,
  readElements: (me) => Boolean(me),
  /** Data elements are standards: the system admin and the data bureau's stewards and org admins add them. */
  /** The directory of services is open to everyone signed in; a steward registers a service of the department. */
  readServices: (me) => Boolean(me),
  registerService: (me) => has(me, 'steward'),
  /** Statistics: the provider's stewards, org admins and monitors, and the data bureau's. */
  monitorService: (me, svc) => ['steward', 'org_admin', 'monitor'].some((r) => has(me, r))
    && (svc.provider_org === me.org_code || inBureau(me)),
  /** Calls: every one to the provider's and the bureau's stewards and org admins, a consumer's own to theirs. */
  readServiceCalls: (me) => has(me, 'steward') || has(me, 'org_admin'),
  manageElements: (me) => has(me, 'sysadmin') || (inBureau(me) && (has(me, 'steward') || has(me, 'org_admin'))),
};
