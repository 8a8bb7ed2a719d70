/*
 * The demo city's catalog and data: twelve published resources across the
 * base libraries (人口 population, 法人 legal entities, 电子证照 licenses) and
 * the departments, filled with synthetic but valid data — ID numbers and
 * unified social credit codes with correct check digits — for N residents
 * and N/5 enterprises (N = --people, 10,000 by default).
 *
 * The data comes from a seeded generator, so loading again produces the
 * same records and changes nothing. A few records disagree on purpose, as
 * real departments do, so that conflict detection has something to find:
 * one resident in 500 has another name at 人社局 than at 公安局, one
 * enterprise in 400 another name at 税务局 than at 市场监管局. Once loaded,
 * the city is indexed for conflict detection (sharing/conflicts.c). Records go through the same preparation
 * as the API's (validation, encryption, blind indexes), in batches, each
 * batch recorded in the audit log.
 */
#include "demo/demo.h"

#include "catalog/catalog.h"
#include "core/arena.h"
#include "core/error.h"
#include "core/time.h"
#include "core/validate.h"
#include "data/record.h"
#include "sharing/sharing.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 500

typedef struct {
    int dept;             /* index into the departments of demo.c */
    const char *name, *summary, *category, *share_type, *condition, *cycle, *key;
    const char *items;    /* JSON array of items, each bound to a data element */
    const char *rows;     /* "people" or "enterprises": which generator feeds it */
    int every;            /* one row in every n */
} demo_resource;

#define ITEM(n, t, e, ty, len, s, m, req)                                                                       \
    "{\"name\":\"" n "\",\"title\":\"" t "\",\"element\":\"" e "\",\"type\":\"" ty "\",\"length\":" #len \
    ",\"sensitivity\":\"" s "\",\"mask\":\"" m "\",\"required\":" req "}"
#define ID_ITEMS                                                                                                \
    ITEM("id_number", "公民身份号码", "id_number", "C", 18, "L3", "id_card", "true") ","                        \
    ITEM("name", "姓名", "name", "C", 50, "L3", "name", "true")
#define USCC_ITEMS                                                                                              \
    ITEM("uscc", "统一社会信用代码", "uscc", "C", 18, "L1", "none", "true") ","                                \
    ITEM("enterprise_name", "企业名称", "enterprise_name", "C", 200, "L1", "none", "true")

static const demo_resource resources[] = {
    {1, "人口基本信息", "本市户籍人口的身份、出生、民族、联系方式和住址", "base", "conditional",
     "用于法定职责范围内的身份核验和业务办理", "daily", "id_number",
     "[" ID_ITEMS "," ITEM("gender", "性别", "gender", "C", 1, "L2", "none", "true") ","
     ITEM("birth_date", "出生日期", "birth_date", "D", 10, "L3", "none", "true") ","
     ITEM("ethnicity", "民族", "ethnicity", "C", 2, "L3", "none", "false") ","
     ITEM("phone", "手机号码", "phone", "C", 11, "L3", "phone", "false") ","
     ITEM("address", "住址", "address", "C", 200, "L3", "address", "false") "]",
     "people", 1},
    {1, "户籍迁移登记", "户口迁入、迁出的登记记录", "department", "conditional", "用于户籍相关业务的协同办理",
     "daily", "id_number",
     "[" ID_ITEMS "," ITEM("household_address", "户籍地址", "household_address", "C", 200, "L3", "address", "true")
     "," ITEM("record_time", "登记时间", "record_time", "T", 40, "L1", "none", "true") "]",
     "people", 10},
    {2, "企业基本信息", "本市登记的市场主体基本信息", "base", "unconditional", NULL, "daily", "uscc",
     "[" USCC_ITEMS "," ITEM("legal_representative", "法定代表人", "legal_representative", "C", 50, "L2", "name", "true")
     "," ITEM("registered_capital", "注册资本（万元）", "registered_capital", "Y", 20, "L1", "none", "false") ","
     ITEM("establishment_date", "成立日期", "establishment_date", "D", 10, "L1", "none", "true") ","
     ITEM("business_scope", "经营范围", "business_scope", "M", 4000, "L1", "none", "false") ","
     ITEM("business_address", "住所", "business_address", "C", 200, "L1", "none", "false") ","
     ITEM("operating_status", "经营状态", "operating_status", "C", 10, "L1", "none", "true") "]",
     "enterprises", 1},
    {2, "营业执照", "电子营业执照证照信息", "base", "conditional", "用于证照核验，免于申请人重复提交", "realtime",
     "uscc",
     "[" USCC_ITEMS "," ITEM("license_number", "证照编号", "license_number", "C", 64, "L2", "none", "true") ","
     ITEM("issue_date", "签发日期", "issue_date", "D", 10, "L1", "none", "true") ","
     ITEM("issuing_authority", "发证机关", "issuing_authority", "C", 200, "L1", "none", "true") "]",
     "enterprises", 1},
    {3, "社会保险参保信息", "职工和城乡居民的参保状态", "department", "conditional", "用于社保待遇资格认证",
     "monthly", "id_number",
     "[" ID_ITEMS "," ITEM("insurance_status", "参保状态", "insurance_status", "C", 10, "L3", "none", "true") "]",
     "people", 2},
    {4, "婚姻登记信息", "结婚、离婚登记的当前婚姻状况", "department", "conditional", "用于婚姻状况核验",
     "daily", "id_number",
     "[" ID_ITEMS "," ITEM("marital_status", "婚姻状况", "marital_status", "C", 2, "L3", "none", "true") "]",
     "people", 3},
    {5, "死亡医学证明信息", "医疗机构出具的死亡医学证明", "department", "conditional",
     "用于户籍注销、待遇停发等业务", "daily", "id_number",
     "[" ID_ITEMS "," ITEM("death_date", "死亡日期", "death_date", "D", 10, "L3", "none", "true") "]",
     "people", 97},
    {6, "纳税信用等级", "纳税人的纳税信用评价结果", "department", "unconditional", NULL, "yearly", "uscc",
     "[" USCC_ITEMS "," ITEM("credit_rating", "信用等级", "credit_rating", "C", 1, "L2", "none", "true") ","
     ITEM("tax_amount", "纳税金额（元）", "tax_amount", "Y", 20, "L3", "none", "false") "]",
     "enterprises", 1},
    {7, "不动产登记信息", "房屋所有权人的不动产登记", "department", "conditional", "用于不动产相关事项办理",
     "daily", "id_number",
     "[" ID_ITEMS "," ITEM("address", "不动产坐落", "address", "C", 200, "L3", "address", "true") "]",
     "people", 4},
    {8, "机动车登记信息", "机动车所有人和号牌", "department", "conditional", "用于交通管理与执法协同",
     "daily", "plate_number",
     "[" ITEM("plate_number", "号牌号码", "plate_number", "C", 10, "L2", "none", "true") "," ID_ITEMS "]",
     "people", 3},
    {9, "排污许可信息", "排污单位的排污许可证", "department", "unconditional", NULL, "monthly", "uscc",
     "[" USCC_ITEMS "," ITEM("license_number", "许可证编号", "license_number", "C", 64, "L2", "none", "true") ","
     ITEM("valid_until", "有效期至", "valid_until", "D", 10, "L1", "none", "true") "]",
     "enterprises", 5},
    {10, "危险化学品经营许可", "危险化学品经营许可证", "department", "unconditional", NULL, "monthly", "uscc",
     "[" USCC_ITEMS "," ITEM("license_number", "许可证编号", "license_number", "C", 64, "L2", "none", "true") ","
     ITEM("valid_until", "有效期至", "valid_until", "D", 10, "L1", "none", "true") "]",
     "enterprises", 7},
};
#define NRESOURCES (sizeof resources / sizeof resources[0])

/* ---- a seeded generator: the same city every time ---- */

static uint64_t next(uint64_t *state)
{
    uint64_t x = *state += 0x9E3779B97F4A7C15ull; /* splitmix64 */
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static const char *pick(uint64_t *st, const char *const *list, size_t n)
{
    return list[next(st) % n];
}
#define PICK(st, list) pick(st, list, sizeof list / sizeof list[0])

static const char *const surnames[] = {"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙",
                                       "胡", "朱", "高", "林", "何", "郭", "马", "罗", "沈", "钱", "欧阳", "诸葛"};
static const char *const given[] = {"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军",
                                    "杰", "娟", "涛", "明", "超", "秀英", "霞", "平", "刚", "桂英", "浩然", "子涵"};
static const char *const districts[][2] = {{"330102", "上城区"}, {"330105", "拱墅区"}, {"330106", "西湖区"},
                                           {"330108", "滨江区"}, {"330109", "萧山区"}, {"330110", "余杭区"}};
static const char *const streets[] = {"解放路", "延安路", "文三路", "江南大道", "湖墅南路", "建国北路", "天目山路"};
static const char *const trades[] = {"科技", "贸易", "餐饮", "建设", "物流", "医药", "化工", "文化", "电子"};

typedef struct {
    char id[19], name[32], birth[11], phone[12], address[128], plate[16];
    int gender;
} person;

static void make_person(uint64_t seed, person *p)
{
    uint64_t st = seed * 7919 + 17;
    const char *const *d = districts[next(&st) % 6];
    int year = 1940 + (int)(next(&st) % 70), month = 1 + (int)(next(&st) % 12), day = 1 + (int)(next(&st) % 28);
    unsigned seq = (unsigned)(seed % 1000);
    char first17[18];
    snprintf(first17, sizeof first17, "%s%04d%02d%02d%03u", d[0], year, month, day, seq);
    snprintf(p->id, sizeof p->id, "%s%c", first17, yw_id_card_check(first17));
    p->gender = seq % 2 ? 1 : 2;
    snprintf(p->name, sizeof p->name, "%s%s", PICK(&st, surnames), PICK(&st, given));
    snprintf(p->birth, sizeof p->birth, "%04d-%02d-%02d", year, month, day);
    snprintf(p->phone, sizeof p->phone, "1%c%09llu", "3578"[next(&st) % 4], (unsigned long long)(next(&st) % 1000000000ull));
    snprintf(p->address, sizeof p->address, "浙江省杭州市%s%s%llu号", d[1], PICK(&st, streets),
             (unsigned long long)(1 + next(&st) % 999));
    snprintf(p->plate, sizeof p->plate, "浙A%05llu", (unsigned long long)(seed % 100000));
}

typedef struct {
    char uscc[19], name[96], legal[32], capital[16], date[11], scope[96], address[128], license[24];
} enterprise;

static void make_enterprise(uint64_t seed, enterprise *e)
{
    uint64_t st = seed * 104729 + 3;
    char org[10], first17[18];
    snprintf(org, sizeof org, "%08llu", (unsigned long long)(31000000 + seed));
    org[8] = yw_org_code_check(org);
    org[9] = '\0';
    const char *const *d = districts[next(&st) % 6];
    snprintf(first17, sizeof first17, "91%s%s", d[0], org);
    snprintf(e->uscc, sizeof e->uscc, "%s%c", first17, yw_uscc_check(first17));
    const char *trade = PICK(&st, trades);
    snprintf(e->name, sizeof e->name, "杭州%s%s%s有限公司", PICK(&st, surnames), PICK(&st, given), trade);
    snprintf(e->legal, sizeof e->legal, "%s%s", PICK(&st, surnames), PICK(&st, given));
    snprintf(e->capital, sizeof e->capital, "%llu", (unsigned long long)(10 + next(&st) % 5000));
    snprintf(e->date, sizeof e->date, "%04d-%02d-%02d", 1995 + (int)(next(&st) % 30), 1 + (int)(next(&st) % 12),
             1 + (int)(next(&st) % 28));
    snprintf(e->scope, sizeof e->scope, "%s技术开发、咨询与服务；%s产品销售", trade, trade);
    snprintf(e->address, sizeof e->address, "浙江省杭州市%s%s%llu号", d[1], PICK(&st, streets),
             (unsigned long long)(1 + next(&st) % 999));
    snprintf(e->license, sizeof e->license, "LIC%010llu", (unsigned long long)seed);
}

/* The record of resource index r for row n, as item → value; the key through *key. */
static json_t *row(yw_arena *arena, size_t r, uint64_t n, const char **key, char keybuf[32])
{
    const demo_resource *d = &resources[r];
    json_t *data = json_object();
    if (strcmp(d->rows, "people") == 0) {
        person p;
        make_person(n, &p);
        json_object_set_new(data, "name", json_string(p.name));
        snprintf(keybuf, 32, "%s", strcmp(d->key, "plate_number") == 0 ? p.plate : p.id);
        if (strcmp(d->key, "plate_number") == 0)
            json_object_set_new(data, "id_number", json_string(p.id));
        switch (r) {
        case 0:
            json_object_set_new(data, "gender", json_string(p.gender == 1 ? "1" : "2"));
            json_object_set_new(data, "birth_date", json_string(p.birth));
            json_object_set_new(data, "ethnicity", json_string(n % 20 ? "01" : "03"));
            json_object_set_new(data, "phone", json_string(p.phone));
            json_object_set_new(data, "address", json_string(p.address));
            break;
        case 1:
            json_object_set_new(data, "household_address", json_string(p.address));
            json_object_set_new(data, "record_time", json_string("2026-03-01T09:30:00+08:00"));
            break;
        case 4:
            json_object_set_new(data, "insurance_status", json_string(n % 9 ? "参保" : "暂停"));
            if (n % 500 == 10) /* a planted conflict: the name as an older registration spelled it */
                json_object_set_new(data, "name", json_string(yw_arena_printf(arena, "%s明", p.name)));
            break;
        case 5: json_object_set_new(data, "marital_status", json_string(n % 4 ? "20" : "10")); break;
        case 6: json_object_set_new(data, "death_date", json_string("2026-01-15")); break;
        case 8: json_object_set_new(data, "address", json_string(p.address)); break;
        default: break;
        }
    } else {
        enterprise e;
        make_enterprise(n, &e);
        snprintf(keybuf, 32, "%s", e.uscc);
        json_object_set_new(data, "enterprise_name", json_string(e.name));
        switch (r) {
        case 2:
            json_object_set_new(data, "legal_representative", json_string(e.legal));
            json_object_set_new(data, "registered_capital", json_string(e.capital));
            json_object_set_new(data, "establishment_date", json_string(e.date));
            json_object_set_new(data, "business_scope", json_string(e.scope));
            json_object_set_new(data, "business_address", json_string(e.address));
            json_object_set_new(data, "operating_status", json_string(n % 15 ? "存续" : "注销"));
            break;
        case 3:
            json_object_set_new(data, "license_number", json_string(e.license));
            json_object_set_new(data, "issue_date", json_string(e.date));
            json_object_set_new(data, "issuing_authority", json_string("杭州市市场监督管理局"));
            break;
        case 7:
            json_object_set_new(data, "credit_rating", json_string((const char *[]){"A", "B", "C", "D"}[n % 4]));
            if (n % 400 == 7) /* a planted conflict: the name before a change of company form */
                json_object_set_new(data, "enterprise_name", json_string(yw_arena_printf(arena, "%s（原）", e.name)));
            json_object_set_new(data, "tax_amount", json_string(e.capital));
            break;
        default:
            json_object_set_new(data, "license_number", json_string(e.license));
            json_object_set_new(data, "valid_until", json_string("2029-12-31"));
            break;
        }
    }
    *key = keybuf;
    return data;
}

typedef struct {
    yw_audit *audit;
    const char *code, *provider, *doc, *name, *category, *share_type;
} resource_job_arg;

static int resource_job(yw_db *db, void *arg)
{
    resource_job_arg *a = arg;
    int64_t exists = 0;
    int rc = yw_db_int(db, &exists, "SELECT 1 FROM resources WHERE code = $1", "t", a->code);
    if (rc != YW_DB_DONE)
        return rc < 0 ? rc : 0;
    int64_t now = yw_now_ms();
    rc = yw_db_run(db,
                   "INSERT INTO resources(code, provider_org, status, version, name, category, share_type, doc,"
                   " published_at, created_at, updated_at) VALUES ($1, $2, 'published', 1, $3, $4, $5, $6, $7, $7, $7)",
                   "tttttti", a->code, a->provider, a->name, a->category, a->share_type, a->doc, now);
    if (rc >= 0)
        rc = yw_db_run(db, "INSERT INTO resource_versions(code, version, doc, published_at) VALUES ($1, 1, $2, $3)", "tti",
                       a->code, a->doc, now);
    if (rc >= 0)
        rc = yw_catalog_index_resource(db, a->code);
    if (rc >= 0)
        rc = (int)yw_audit_system(a->audit, db, "yiwang demo", "resource.publish", "resource", a->code);
    return rc < 0 ? rc : 0;
}

typedef struct {
    yw_audit *audit;
    const char *code;
    record_write rows[BATCH];
    int n;
} batch_arg;

static int batch_job(yw_db *db, void *arg)
{
    batch_arg *b = arg;
    bool changed = false;
    for (int i = 0; i < b->n; i++) {
        int rc = record_job(db, &b->rows[i]);
        if (rc < 0)
            return rc;
        changed |= b->rows[i].changed;
    }
    if (!changed)
        return 0; /* loading the city again: nothing happened, nothing to record */
    int64_t seq = yw_audit_system(b->audit, db, "yiwang demo", "record.import", "resource", b->code);
    return seq < 0 ? (int)seq : 0;
}

int yw_demo_resource_dept(int r)
{
    return resources[r].dept;
}

int yw_demo_load_catalog(yw_store *store, yw_audit *audit, const yw_keyring *keys, const yw_config *cfg,
                         const char *const *dept_codes, char *err, size_t errlen)
{
    uint64_t people = (uint64_t)cfg->demo_people, firms = people / 5;
    batch_arg *b = calloc(1, sizeof *b);
    if (!b)
        return YW_ENOMEM;
    int rc = 0;
    for (size_t r = 0; r < NRESOURCES && rc >= 0; r++) {
        const demo_resource *d = &resources[r];
        char code[64];
        snprintf(code, sizeof code, "%s-%06zu", dept_codes[d->dept], 100001 + r);
        json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "name", d->name, "summary",
                                d->summary, "category", d->category, "format", "table", "key_item", d->key,
                                "share_type", d->share_type, "share_method", "api", "open_type", "closed",
                                "update_cycle", d->cycle, "items", json_loads(d->items, 0, NULL));
        if (d->condition)
            json_object_set_new(doc, "share_condition", json_string(d->condition));
        char *text = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        resource_job_arg ra = {audit, code, dept_codes[d->dept], text, d->name, d->category, d->share_type};
        rc = yw_writer_run(yw_store_writer(store), resource_job, &ra);
        free(text);
        if (rc < 0)
            break;
        /* the rows, in batches */
        yw_arena *arena = yw_arena_new(1 << 16);
        resource_spec spec;
        rc = resource_spec_load(arena, yw_store_reader(store), code, &spec);
        uint64_t total = strcmp(d->rows, "people") == 0 ? people : firms;
        b->audit = audit;
        b->code = spec.code;
        b->n = 0;
        for (uint64_t n = 0; n < total && rc >= 0; n += (uint64_t)d->every) {
            const char *key, *item;
            char keybuf[32];
            json_t *data = row(arena, r, n, &key, keybuf);
            record_ctx ctx = {.arena = arena, .keys = keys, .source = "yiwang demo"};
            const char *why = prepare_record(&ctx, &spec, key, data, &b->rows[b->n], &item);
            json_decref(data);
            if (why) {
                snprintf(err, errlen, "demo data for %s is invalid: %s %s", d->name, item ? item : "", why);
                rc = YW_EINVAL;
                break;
            }
            if (++b->n == BATCH || n + (uint64_t)d->every >= total) {
                rc = yw_writer_run(yw_store_writer(store), batch_job, b);
                b->n = 0;
                yw_arena_free(arena);
                arena = yw_arena_new(1 << 16);
                if (rc >= 0)
                    rc = resource_spec_load(arena, yw_store_reader(store), code, &spec);
                b->code = spec.code;
            }
        }
        yw_arena_free(arena);
    }
    free(b);
    /* The city is compared across departments now, not by the first request for conflicts or quality. */
    if (rc >= 0) {
        yw_arena *arena = yw_arena_new(1 << 16);
        rc = entities_index(arena, keys, yw_store_reader(store), yw_store_writer(store));
        yw_arena_free(arena);
    }
    if (rc < 0 && !err[0])
        snprintf(err, errlen, "loading the demo catalog: %s", yw_strerror(rc));
    return rc < 0 ? rc : 0;
}
