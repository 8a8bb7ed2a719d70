// Checks an audit inclusion proof in the browser, with WebCrypto SHA-256,
// exactly as src/audit/merkle.c hashes (RFC 9162 §2.1):
//   leaf  = SHA-256(0x00 || entry)        node = SHA-256(0x01 || left || right)
// and the verifications of §2.1.3.2 (inclusion) and §2.1.4.2 (consistency).
// A tree head's Ed25519 signature is checked over the 68 bytes docs/audit.md
// describes, where the browser offers Ed25519.

export function fromBase64(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function toBase64(bytes) {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

async function sha256(...parts) {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const buf = new Uint8Array(len);
  let at = 0;
  for (const p of parts) { buf.set(p, at); at += p.length; }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
}

export async function leafHash(entryText) {
  return sha256(Uint8Array.of(0), new TextEncoder().encode(entryText));
}

export async function nodeHash(left, right) {
  return sha256(Uint8Array.of(1), left, right);
}

function equal(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The root an audit path leads to from leaf at index in a tree of size,
 * or null when the path does not fit the tree (RFC 9162 §2.1.3.2).
 */
export async function rootFromPath(index, size, leaf, path) {
  let fn = BigInt(index);
  let sn = BigInt(size) - 1n;
  if (fn > sn) return null;
  let r = leaf;
  for (const p of path) {
    if (sn === 0n) return null;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : null;
}

/** The 68 bytes a tree head's signature covers. */
export function signedHeadBytes(head) {
  const out = new Uint8Array(68);
  out.set(new TextEncoder().encode('yiwang-tree-head-v1'), 0); // 19 bytes, then the 0x00 at 19
  const view = new DataView(out.buffer);
  view.setBigUint64(20, BigInt(head.tree_size));
  view.setBigUint64(28, BigInt(head.timestamp_ms));
  out.set(fromBase64(head.root_hash), 36);
  return out;
}

/**
 * Verifies proof (GET /api/v1/audit/proof/{seq}) and, given the log's
 * public key (base64), the head's signature. Returns the steps, each
 * {name, ok, value}; ok is null for a step the browser cannot perform.
 */
export async function verifyInclusion(proof, publicKey) {
  const steps = [];
  const leaf = await leafHash(proof.entry);
  steps.push({ name: 'leaf', ok: equal(leaf, fromBase64(proof.leaf_hash)), value: toBase64(leaf) });
  const path = proof.audit_path.map(fromBase64);
  const root = await rootFromPath(proof.seq, proof.tree_size, leaf, path);
  const headRoot = fromBase64(proof.tree_head.root_hash);
  steps.push({
    name: 'root', ok: root !== null && proof.tree_head.tree_size === proof.tree_size && equal(root, headRoot),
    value: root ? toBase64(root) : '—',
  });
  const signature = publicKey ? await headSigned(proof.tree_head, publicKey) : null;
  steps.push({ name: 'signature', ok: signature, value: proof.tree_head.signature });
  return steps;
}

/**
 * Whether proof (GET /api/v1/audit/consistency) shows that the tree of size
 * `from` with root fromRoot is a prefix of the tree of size `to` with root
 * toRoot (RFC 9162 §2.1.4.2). Roots are bytes.
 */
export async function consistent(from, to, fromRoot, toRoot, proof) {
  if (from === to) return proof.length === 0 && equal(fromRoot, toRoot);
  if (from === 0) return proof.length === 0; // every tree extends the empty one
  if (from > to || proof.length === 0) return false;
  const path = [...proof];
  if ((from & (from - 1)) === 0) path.unshift(fromRoot); // a complete subtree: its root starts the path
  let fn = BigInt(from) - 1n;
  let sn = BigInt(to) - 1n;
  while ((fn & 1n) === 1n) { fn >>= 1n; sn >>= 1n; }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && equal(fr, fromRoot) && equal(sr, toRoot);
}

/** Verifies a tree head's Ed25519 signature; null when the browser cannot. */
export async function headSigned(head, publicKey) {
  try {
    const key = await crypto.subtle.importKey('raw', fromBase64(publicKey), { name: 'Ed25519' }, false, ['verify']);
    return await crypto.subtle.verify({ name: 'Ed25519' }, key, fromBase64(head.signature), signedHeadBytes(head));
  } catch {
    return null;
  }
}
