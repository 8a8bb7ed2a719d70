// A small JSON Schema validator (the 2020-12 subset api/openapi.yaml uses),
// written by hand so the API tests need nothing from npm.
//
//   const v = new Validator(openapiDocument);
//   v.check(schema);                       // throws on keywords this file does not implement
//   const errors = v.validate(schema, value);   // [] when valid, else [{path, message}]
//
// Supported: $ref (local, "#/..." JSON pointers, with sibling keywords as
// 2020-12 allows), type (a name or an array of names, "null" and "integer"
// included), properties, required, additionalProperties (false or a schema),
// items, minItems, maxItems, uniqueItems, enum, const, format "date-time"
// (RFC 3339), minLength and maxLength (in code points), pattern (ECMA-262,
// unanchored as the spec says), minimum, maximum, oneOf, anyOf, allOf, not.
// Annotations (description, title, default, examples, ...) are ignored.
//
// Any other keyword makes check() and validate() throw, so the document
// cannot silently rely on something this validator would not enforce.

const ANNOTATIONS = new Set([
  'description', 'title', 'default', 'examples', 'example', 'deprecated', 'readOnly', 'writeOnly', '$comment',
]);
const ASSERTIONS = new Set([
  '$ref', 'type', 'properties', 'required', 'additionalProperties', 'items', 'minItems', 'maxItems', 'uniqueItems',
  'enum', 'const', 'format', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'oneOf', 'anyOf', 'allOf',
  'not',
]);
const TYPES = new Set(['null', 'boolean', 'object', 'array', 'number', 'integer', 'string']);
const FORMATS = { 'date-time': isDateTime };

/** RFC 3339 date-time (section 5.6), with real calendar and clock ranges. */
export function isDateTime(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$/.exec(s);
  if (!m) return false;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number);
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (mo < 1 || mo > 12 || d < 1 || d > days[mo - 1]) return false;
  if (h > 23 || mi > 59 || sec > 60) return false;
  if (m[9] && (Number(m[10]) > 23 || Number(m[11]) > 59)) return false;
  return true;
}

/** The JSON type name of a parsed JSON value ("integer" for whole numbers). */
export function jsonType(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v; // boolean, object, string
}

/** Structural equality of JSON values (object member order ignored). */
export function jsonEqual(a, b) {
  if (a === b) return true;
  const ta = jsonType(a), tb = jsonType(b);
  if (ta !== tb) return false;
  if (ta === 'array') return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (ta === 'object') {
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

function typeMatches(name, v) {
  const t = jsonType(v);
  return name === t || (name === 'number' && t === 'integer');
}

function describe(v) {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export class Validator {
  /** root: the document that "#/..." references point into. */
  constructor(root) {
    this.root = root;
    this.patterns = new Map();
  }

  /** The value at a local reference such as "#/components/schemas/Org"; throws when absent. */
  resolve(ref) {
    if (typeof ref !== 'string' || !ref.startsWith('#')) throw new Error(`only local $ref is supported: ${ref}`);
    let node = this.root;
    const pointer = ref.slice(1);
    if (pointer === '') return node;
    if (!pointer.startsWith('/')) throw new Error(`bad JSON pointer in $ref: ${ref}`);
    for (const raw of pointer.slice(1).split('/')) {
      const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) {
        throw new Error(`$ref does not resolve: ${ref}`);
      }
      node = node[key];
    }
    return node;
  }

  /** Follows $ref chains of non-schema objects (responses, parameters, headers). */
  deref(obj) {
    const seen = new Set();
    while (obj && typeof obj === 'object' && typeof obj.$ref === 'string') {
      if (seen.has(obj.$ref)) throw new Error(`$ref cycle at ${obj.$ref}`);
      seen.add(obj.$ref);
      obj = this.resolve(obj.$ref);
    }
    return obj;
  }

  regex(source) {
    let re = this.patterns.get(source);
    if (!re) {
      re = new RegExp(source, 'u');
      this.patterns.set(source, re);
    }
    return re;
  }

  /**
   * Walks a schema and everything it references; throws on unsupported or
   * malformed keywords and on references that do not resolve.
   */
  check(schema, where = 'schema', seen = new Set()) {
    if (schema === true || schema === false) return;
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
      throw new Error(`${where}: a schema must be an object or a boolean`);
    }
    if (seen.has(schema)) return;
    seen.add(schema);
    for (const [k, v] of Object.entries(schema)) {
      const at = `${where}/${k}`;
      if (ANNOTATIONS.has(k)) continue;
      if (!ASSERTIONS.has(k)) throw new Error(`${at}: keyword not supported by tests/api/lib/schema.mjs`);
      switch (k) {
        case '$ref': this.check(this.resolve(v), v, seen); break;
        case 'type':
          for (const t of Array.isArray(v) ? v : [v]) if (!TYPES.has(t)) throw new Error(`${at}: unknown type ${t}`);
          break;
        case 'properties':
          for (const [name, sub] of Object.entries(v)) this.check(sub, `${at}/${name}`, seen);
          break;
        case 'required':
          if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`${at}: must list names`);
          break;
        case 'additionalProperties':
        case 'items':
        case 'not':
          this.check(v, at, seen);
          break;
        case 'oneOf':
        case 'anyOf':
        case 'allOf':
          if (!Array.isArray(v) || v.length === 0) throw new Error(`${at}: must be a non-empty array`);
          v.forEach((sub, i) => this.check(sub, `${at}/${i}`, seen));
          break;
        case 'enum':
          if (!Array.isArray(v) || v.length === 0) throw new Error(`${at}: must be a non-empty array`);
          break;
        case 'format':
          if (!Object.hasOwn(FORMATS, v)) throw new Error(`${at}: format ${v} not supported`);
          break;
        case 'pattern':
          this.regex(v);
          break;
        case 'minLength': case 'maxLength': case 'minItems': case 'maxItems':
          if (!Number.isInteger(v) || v < 0) throw new Error(`${at}: must be a non-negative integer`);
          break;
        case 'minimum': case 'maximum':
          if (typeof v !== 'number') throw new Error(`${at}: must be a number`);
          break;
        case 'uniqueItems':
          if (typeof v !== 'boolean') throw new Error(`${at}: must be a boolean`);
          break;
        default: break; // const: any value
      }
    }
  }

  /** Errors of value against schema, as [{path, message}]; [] when valid. */
  validate(schema, value, path = '') {
    const errors = [];
    this.#run(schema, value, path, errors);
    return errors;
  }

  /** True when value is valid against schema. */
  isValid(schema, value) {
    return this.validate(schema, value).length === 0;
  }

  #run(schema, v, path, errors) {
    if (schema === true) return;
    if (schema === false) {
      errors.push({ path, message: 'no value is allowed here' });
      return;
    }
    const fail = (message) => errors.push({ path: path || '/', message });
    for (const k of Object.keys(schema)) {
      if (!ANNOTATIONS.has(k) && !ASSERTIONS.has(k)) throw new Error(`keyword ${k} not supported by schema.mjs`);
    }
    if (schema.$ref !== undefined) this.#run(this.resolve(schema.$ref), v, path, errors);

    if (schema.type !== undefined) {
      const types = Array.isArray(schema.type) ? schema.type : [schema.type];
      if (!types.some((t) => typeMatches(t, v))) {
        fail(`expected ${types.join(' or ')}, got ${jsonType(v)} ${describe(v)}`);
        return; // the other keywords would only repeat the mismatch
      }
    }
    if (schema.const !== undefined && !jsonEqual(schema.const, v)) {
      fail(`expected ${describe(schema.const)}, got ${describe(v)}`);
    }
    if (schema.enum !== undefined && !schema.enum.some((e) => jsonEqual(e, v))) {
      fail(`${describe(v)} is not one of ${describe(schema.enum)}`);
    }

    const t = jsonType(v);
    if (t === 'string') {
      const len = [...v].length;
      if (schema.minLength !== undefined && len < schema.minLength) fail(`shorter than ${schema.minLength}`);
      if (schema.maxLength !== undefined && len > schema.maxLength) fail(`longer than ${schema.maxLength}`);
      if (schema.pattern !== undefined && !this.regex(schema.pattern).test(v)) {
        fail(`${describe(v)} does not match ${schema.pattern}`);
      }
      if (schema.format !== undefined) {
        const f = FORMATS[schema.format];
        if (!f) throw new Error(`format ${schema.format} not supported by schema.mjs`);
        if (!f(v)) fail(`${describe(v)} is not a valid ${schema.format}`);
      }
    }
    if (t === 'integer' || t === 'number') {
      if (schema.minimum !== undefined && v < schema.minimum) fail(`${v} is below ${schema.minimum}`);
      if (schema.maximum !== undefined && v > schema.maximum) fail(`${v} is above ${schema.maximum}`);
    }
    if (t === 'array') {
      if (schema.minItems !== undefined && v.length < schema.minItems) fail(`fewer than ${schema.minItems} items`);
      if (schema.maxItems !== undefined && v.length > schema.maxItems) fail(`more than ${schema.maxItems} items`);
      if (schema.uniqueItems === true) {
        for (let i = 0; i < v.length; i++) {
          for (let j = i + 1; j < v.length; j++) {
            if (jsonEqual(v[i], v[j])) fail(`items ${i} and ${j} are equal`);
          }
        }
      }
      if (schema.items !== undefined) v.forEach((x, i) => this.#run(schema.items, x, `${path}/${i}`, errors));
    }
    if (t === 'object') {
      const props = schema.properties || {};
      for (const name of schema.required || []) {
        if (!Object.hasOwn(v, name)) fail(`missing required member '${name}'`);
      }
      for (const [name, x] of Object.entries(v)) {
        const at = `${path}/${name}`;
        if (Object.hasOwn(props, name)) this.#run(props[name], x, at, errors);
        else if (schema.additionalProperties === false) errors.push({ path: at, message: 'member not allowed' });
        else if (schema.additionalProperties !== undefined) this.#run(schema.additionalProperties, x, at, errors);
      }
    }

    if (schema.allOf !== undefined) for (const sub of schema.allOf) this.#run(sub, v, path, errors);
    if (schema.anyOf !== undefined) {
      const results = schema.anyOf.map((sub) => this.validate(sub, v, path));
      if (!results.some((r) => r.length === 0)) {
        fail(`matches none of anyOf: ${results.map((r, i) => `[${i}] ${summary(r)}`).join('; ')}`);
      }
    }
    if (schema.oneOf !== undefined) {
      const results = schema.oneOf.map((sub) => this.validate(sub, v, path));
      const ok = results.filter((r) => r.length === 0).length;
      if (ok === 0) fail(`matches none of oneOf: ${results.map((r, i) => `[${i}] ${summary(r)}`).join('; ')}`);
      else if (ok > 1) fail(`matches ${ok} schemas of oneOf, exactly one is required`);
    }
    if (schema.not !== undefined && this.validate(schema.not, v, path).length === 0) {
      fail('matches the schema under "not"');
    }
  }
}

function summary(errors) {
  return errors.slice(0, 3).map((e) => `${e.path || '/'}: ${e.message}`).join(', ');
}

/** One line per error, for assertion messages. */
export function formatErrors(errors) {
  return errors.map((e) => `  ${e.path || '/'}: ${e.message}`).join('\n');
}
