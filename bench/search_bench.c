/*
 * Catalog search benchmark: 100,000 resources, indexed as the server indexes
 * them (yw_catalog_index_resource), searched as GET /api/v1/resources?q=
 * searches (yw_catalog_search: name matches first, bm25, first page of 50),
 * against the reference of a brute-force substring scan (LIKE '%term%')
 * over the same columns that stops at the first page. Prints p50/p99 of both.
 *
 * The corpus: names made of two of 240 words of government data (户籍,
 * 营业执照, 不动产, ...) and a kind (信息, 台账, 名单, ...), summaries of
 * four more, two items titled with words too; 40 provider departments;
 * mostly published, some drafts and retired; categories and share types
 * spread as in a city catalog. (An earlier corpus of 30 words made every
 * two-character query match 7,000 names, which no real catalog does.)
 * The queries, as users type them: two-character words, one character
 * (among them the very common 信, 数 and 息 that nearly every resource
 * contains), two words, some with a provider, category, share type or
 * status filter, each by a signed-in steward of a random department (so
 * that department's drafts are found too).
 *
 * usage: search-bench [resources, default 100000] [queries, default 500]
 */
#include "catalog/catalog.h"
#include "core/time.h"
#include "store/store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const words[] = {
    "户籍",     "人口",     "社保",     "医保",     "执照",     "营业执照", "企业",     "个体户",   "信用",     "婚姻",
    "登记",     "证明",     "医疗",     "教育",     "学籍",     "住房",     "公积金",   "交通",     "车辆",     "驾驶证",
    "环境",     "排污",     "许可",     "应急",     "危化品",   "税务",     "纳税",     "发票",     "不动产",   "出生",
    "死亡",     "养老",     "就业",     "失业",     "低保",     "救助",     "残疾人",   "退役军人", "优抚",     "殡葬",
    "收养",     "流动人口", "居住证",   "出入境",   "护照",     "签证",     "治安",     "消防",     "安全生产", "特种设备",
    "食品",     "药品",     "医疗器械", "化妆品",   "疫苗",     "传染病",   "卫生",     "计划生育", "妇幼",     "医师",
    "护士",     "医院",     "诊所",     "药店",     "学校",     "幼儿园",   "教师",     "学生",     "招生",     "考试",
    "职称",     "技能",     "培训",     "劳动合同", "工资",     "工伤",     "生育",     "社会组织", "慈善",     "志愿者",
    "宗教",     "民族",     "文物",     "旅游",     "酒店",     "体育",     "广播电视", "出版",     "新闻",     "网络",
    "通信",     "邮政",     "快递",     "电力",     "燃气",     "供水",     "排水",     "供热",     "地下管线", "道路",
    "桥梁",     "公路",     "铁路",     "民航",     "港口",     "航道",     "船舶",     "公交",     "出租车",   "网约车",
    "停车",     "违章",     "事故",     "路况",     "气象",     "水文",     "地质",     "测绘",     "地图",     "国土",
    "规划",     "用地",     "耕地",     "林地",     "草原",     "湿地",     "水资源",   "河道",     "水库",     "堤防",
    "农业",     "农村",     "农户",     "土地承包", "宅基地",   "种子",     "农药",     "化肥",     "畜牧",     "兽医",
    "渔业",     "粮食",     "储备",     "价格",     "物价",     "统计",     "普查",     "审计",     "财政",     "预算",
    "国有资产", "政府采购", "招标",     "投标",     "工程",     "建筑",     "施工",     "监理",     "房屋",     "物业",
    "拆迁",     "征收",     "商品房",   "预售",     "租赁",     "市场主体", "商标",     "专利",     "版权",     "标准",
    "计量",     "认证",     "检验",     "检测",     "质量",     "产品",     "召回",     "广告",     "合同",     "拍卖",
    "外资",     "外贸",     "进出口",   "海关",     "口岸",     "检疫",     "金融",     "银行",     "保险",     "证券",
    "债券",     "贷款",     "征信",     "失信",     "红名单",   "黑名单",   "行政处罚", "行政许可", "行政强制", "信访",
    "投诉",     "举报",     "热线",     "网格",     "社区",     "街道",     "乡镇",     "村委会",   "居委会",   "选举",
    "人大代表", "政协",     "档案",     "地方志",   "法律援助", "公证",     "律师",     "司法鉴定", "调解",     "仲裁",
    "法院",     "检察",     "监狱",     "戒毒",     "社区矫正", "禁毒",     "反诈",     "网吧",     "娱乐场所", "烟草",
    "盐业",     "能源",     "节能",     "碳排放",   "污染源",   "空气质量", "噪声",     "固体废物", "垃圾分类", "园林",
};
#define NWORDS (sizeof words / sizeof words[0])

static const char *const kinds[] = {"信息", "信息", "信息", "数据", "登记信息", "台账", "名单", "目录", "统计表", "信息库"};
#define NKINDS (sizeof kinds / sizeof kinds[0])
static const char *const common_characters[] = {"信", "数", "息"};
#define NPROVIDERS 40

static const char *pick(const char *const *list, size_t n)
{
    return list[randombytes_uniform((uint32_t)n)];
}

static void provider_code(char *out, size_t size, int i)
{
    snprintf(out, size, "91350100M0001%02dY4X", i);
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    int start, n;
} fill_arg;

static int fill_job(yw_db *db, void *arg)
{
    fill_arg *f = arg;
    static const char *const categories[] = {"base", "theme", "theme", "department", "department", "department",
                                             "department", "department", "department", "department"};
    static const char *const share_types[] = {"unconditional", "unconditional", "unconditional", "unconditional",
                                              "unconditional", "conditional", "conditional", "conditional",
                                              "conditional", "none"};
    int rc = 0;
    for (int i = 0; rc >= 0 && f->start == 0 && i < NPROVIDERS; i++) {
        char code[32], name[64];
        provider_code(code, sizeof code, i);
        snprintf(name, sizeof name, "市%s局", words[i * 5 % NWORDS]);
        rc = yw_db_run(db, "INSERT INTO orgs(code, name, region_code, level, created_at, updated_at)"
                           " VALUES ($1, $2, '350100', 'city', 0, 0)", "tt", code, name);
    }
    for (int i = f->start; rc >= 0 && i < f->start + f->n; i++) {
        char provider[32], code[64], name[128], summary[512];
        provider_code(provider, sizeof provider, (int)randombytes_uniform(NPROVIDERS));
        snprintf(code, sizeof code, "%s-%06d", provider, i + 1);
        snprintf(name, sizeof name, "%s%s%s", pick(words, NWORDS), pick(words, NWORDS), pick(kinds, NKINDS));
        snprintf(summary, sizeof summary, "提供%s、%s和%s相关的%s数据，供各部门共享使用", pick(words, NWORDS),
                 pick(words, NWORDS), pick(words, NWORDS), pick(words, NWORDS));
        uint32_t roll = randombytes_uniform(100);
        const char *status = roll < 96 ? "published" : roll < 99 ? "draft" : "retired";
        rc = yw_db_run(db,
                       "INSERT INTO resources(code, provider_org, status, version, name, category, share_type, doc,"
                       " created_at, updated_at) VALUES ($1, $2, $3, 1, $4, $5, $6, json_object('name', $4, 'summary',"
                       " $7, 'items', json_array(json_object('name', 'a', 'title', $8), json_object('name', 'b',"
                       " 'title', $9))), 0, 0)",
                       "ttttttttt", code, provider, status, name, pick(categories, 10), pick(share_types, 10), summary,
                       pick(words, NWORDS), pick(words, NWORDS));
        if (rc >= 0)
            rc = yw_catalog_index_resource(db, code);
    }
    return rc < 0 ? rc : 0;
}

/* A query as a user might type it, with the filters some users add. */
static void make_query(yw_catalog_search_query *q, char *text, size_t size, char *viewer, char *provider)
{
    static const char *const categories[] = {"base", "theme", "department"};
    static const char *const share_types[] = {"unconditional", "conditional"};
    uint32_t kind = randombytes_uniform(10);
    const char *w = pick(words, NWORDS);
    if (kind < 4) /* a two-character word (or the first two characters of a longer one) */
        snprintf(text, size, "%.6s", w);
    else if (kind < 6) /* the first character of a word */
        snprintf(text, size, "%.3s", w);
    else if (kind < 7) /* a character nearly every resource contains */
        snprintf(text, size, "%s", pick(common_characters, 3));
    else if (kind < 9) /* a whole word */
        snprintf(text, size, "%s", w);
    else /* two words */
        snprintf(text, size, "%s %s", w, pick(words, NWORDS));
    provider_code(viewer, 32, (int)randombytes_uniform(NPROVIDERS));
    *q = (yw_catalog_search_query){.text = text, .viewer_org = viewer, .limit = 50};
    uint32_t filter = randombytes_uniform(10);
    if (filter < 2) {
        provider_code(provider, 32, (int)randombytes_uniform(NPROVIDERS));
        q->provider = provider;
    } else if (filter < 3) {
        q->category = pick(categories, 3);
    } else if (filter < 4) {
        q->share_type = pick(share_types, 2);
    } else if (filter < 5) {
        q->status = "published";
    }
}

static int64_t time_search(yw_db *db, const yw_catalog_search_query *q, size_t *found)
{
    json_t *items = json_array();
    char *next = NULL;
    int64_t t0 = yw_mono_ns();
    int rc = yw_catalog_search(db, q, items, &next);
    int64_t t = yw_mono_ns() - t0;
    *found = json_array_size(items);
    json_decref(items);
    free(next);
    return rc < 0 ? -1 : t;
}

static int64_t time_scan(yw_db *db, const char *text)
{
    char like[64];
    snprintf(like, sizeof like, "%%%.*s%%", (int)strcspn(text, " "), text);
    yw_stmt *s;
    int64_t t0 = yw_mono_ns();
    if (yw_db_query(db, &s,
                    "SELECT code, doc FROM resources WHERE status = 'published' AND (name LIKE $1"
                    " OR json_extract(doc, '$.summary') LIKE $1) LIMIT 51",
                    "t", like) < 0)
        return -1;
    while (yw_stmt_step(s) == YW_DB_ROW)
        ;
    yw_stmt_release(s);
    return yw_mono_ns() - t0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100000, q = argc > 2 ? atoi(argv[2]) : 500;
    if (n < 1 || q < 1 || sodium_init() < 0)
        return 1;
    char dir[] = "/tmp/yiwang-search-bench-XXXXXX", url[256], err[256];
    if (!mkdtemp(dir))
        return 1;
    snprintf(url, sizeof url, "sqlite:%s/yiwang.db", dir);
    yw_store *store = yw_store_open(url, 0, err, sizeof err);
    if (!store) {
        fprintf(stderr, "search-bench: %s\n", err);
        return 1;
    }
    fprintf(stderr, "indexing %d resources...\n", n);
    for (int done = 0; done < n; done += 10000) {
        fill_arg f = {done, n - done < 10000 ? n - done : 10000};
        int rc = yw_writer_run(yw_store_writer(store), fill_job, &f);
        if (rc < 0) {
            fprintf(stderr, "search-bench: cannot index: error %d\n", rc);
            return 1;
        }
    }
    yw_db *db = yw_store_reader(store);
    int64_t *fts = calloc((size_t)q, sizeof *fts), *scan = calloc((size_t)q, sizeof *scan);
    size_t found = 0, full_pages = 0;
    for (int i = 0; i < q; i++) {
        char text[64], viewer[32], provider[32];
        yw_catalog_search_query query;
        make_query(&query, text, sizeof text, viewer, provider);
        size_t page;
        fts[i] = time_search(db, &query, &page);
        scan[i] = time_scan(db, text);
        if (fts[i] < 0 || scan[i] < 0) {
            fprintf(stderr, "search-bench: query '%s' failed: %s\n", text, yw_db_errmsg(db));
            return 1;
        }
        found += page;
        full_pages += page == 50;
    }
    qsort(fts, (size_t)q, sizeof *fts, cmp);
    qsort(scan, (size_t)q, sizeof *scan, cmp);
    printf("catalog search, %d resources (names from %zu government-data words: a more realistic corpus than the 30"
           " words of earlier runs, see bench/README.md), %d queries: one and two characters, words, two words;"
           " a filter in half of them; first page of 50\n",
           n, NWORDS, q);
    printf("  results: %.1f per page on average, %zu full pages\n", (double)found / q, full_pages);
    printf("  %-40s p50 %8.2f ms   p99 %8.2f ms\n", "yiwang full text (yw_catalog_search)", fts[q / 2] / 1e6,
           fts[q * 99 / 100] / 1e6);
    printf("  %-40s p50 %8.2f ms   p99 %8.2f ms\n", "reference: substring scan (LIKE)", scan[q / 2] / 1e6,
           scan[q * 99 / 100] / 1e6);
    printf("  ratio (p99) %.2f   target p99 < 20 ms: %s\n", (double)fts[q * 99 / 100] / (double)scan[q * 99 / 100],
           fts[q * 99 / 100] < 20000000 ? "met" : "NOT met");
    free(fts);
    free(scan);
    yw_store_close(store);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
