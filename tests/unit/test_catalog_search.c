/*
 * Catalog search (yw_catalog_search) over more matches than it ranks: a
 * catalog where 2,250 names contain the term (a group listed straight from
 * the index) and 1,500 summaries do (a group ranked by bm25), with another
 * org's drafts among them. Paging through every page returns each match
 * once, name matches first, exactly the set a substring scan finds among
 * what the viewer may see; filters narrow it the same way. The API tests
 * check the same on a small catalog, where both groups are ranked.
 */
#include <criterion/criterion.h>

#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "core/error.h"
#include "store/store.h"

#define RESOURCES 4500
#define ORG_A "91350100M000100Y41"
#define ORG_B "91350100M000200Y42"

static char tmpdir[256];
static yw_store *store;
static bool saw_listed_names, saw_ranked_others; /* by the cursors of the last page_through */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* The catalog: resource i names the term if i is even, else its summary does unless i % 3 == 0. */
static int fill(yw_db *db, void *arg)
{
    int rc = yw_db_run(db, "INSERT INTO orgs(code, name, region_code, level, created_at, updated_at) VALUES"
                           " ('" ORG_A "', '市档案馆', '350100', 'city', 0, 0),"
                           " ('" ORG_B "', '市地质局', '350100', 'city', 0, 0)", "");
    for (int i = 0; rc >= 0 && i < RESOURCES; i++) {
        const char *provider = i % 4 == 3 ? ORG_B : ORG_A;
        const char *status = i % 10 == 7 ? "draft" : "published"; /* 7: ORG_B's drafts, 17: ORG_A's */
        char code[64], name[128], summary[128];
        snprintf(code, sizeof code, "%s-%06d", provider, i + 1);
        snprintf(name, sizeof name, i % 2 == 0 ? "第%d号琥珀标本登记信息" : "第%d号矿产标本登记信息", i);
        snprintf(summary, sizeof summary, i % 2 == 1 && i % 3 != 0 ? "收录琥珀%d件" : "收录矿石%d件", i % 97);
        rc = yw_db_run(db,
                       "INSERT INTO resources(code, provider_org, status, version, name, category, share_type, doc,"
                       " created_at, updated_at) VALUES ($1, $2, $3, 1, $4, $5, 'unconditional',"
                       " json_object('name', $4, 'summary', $6), 0, 0)",
                       "tttttt", code, provider, status, name, i % 5 == 0 ? "base" : "department", summary);
        if (rc >= 0)
            rc = yw_catalog_index_resource(db, code);
    }
    return rc < 0 ? rc : 0;
}

static void setup(void)
{
    char url[300], err[256];
    snprintf(tmpdir, sizeof tmpdir, "/tmp/yw-search-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    snprintf(url, sizeof url, "sqlite:%s/yiwang.db", tmpdir);
    store = yw_store_open(url, 0, err, sizeof err);
    cr_assert_not_null(store, "%s", err);
    cr_assert_eq(yw_writer_run(yw_store_writer(store), fill, NULL), 0);
}

static void teardown(void)
{
    yw_store_close(store);
    nftw(tmpdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(catalog_search, .init = setup, .fini = teardown, .timeout = 120);

/* Marks in found[] every resource the search returns, page by page; fails on a repeat. Returns how many. */
static int page_through(yw_catalog_search_query q, char found[RESOURCES], bool in_name[RESOURCES], int *first_other)
{
    memset(found, 0, RESOURCES);
    char *cursor = NULL;
    int n = 0, pages = 0;
    *first_other = -1;
    saw_listed_names = saw_ranked_others = false;
    do {
        json_t *items = json_array();
        char *next = NULL;
        q.after = cursor;
        cr_assert_eq(yw_catalog_search(yw_store_reader(store), &q, items, &next), 0);
        cr_assert_leq(json_array_size(items), (size_t)q.limit);
        size_t k;
        json_t *r;
        json_array_foreach(items, k, r) {
            int i = atoi(strrchr(json_string_value(json_object_get(r, "code")), '-') + 1) - 1;
            cr_assert(i >= 0 && i < RESOURCES);
            cr_assert_not(found[i], "resource %d returned twice (page %d)", i, pages);
            found[i] = 1;
            in_name[i] = strstr(json_string_value(json_object_get(r, "name")), "琥珀") != NULL;
            if (!in_name[i] && *first_other < 0)
                *first_other = n;
            cr_assert(in_name[i] || *first_other >= 0);
            cr_assert(!in_name[i] || *first_other < 0, "a name match after another match (%d)", n);
            n++;
        }
        json_decref(items);
        free(cursor);
        cursor = next;
        saw_listed_names |= cursor && strncmp(cursor, "nl:", 3) == 0;
        saw_ranked_others |= cursor && strncmp(cursor, "or:", 3) == 0;
        cr_assert_lt(++pages, 1000);
    } while (cursor);
    return n;
}

/* Whether resource i contains the term and passes the filters, by the rules fill() used. */
static bool expected(int i, const char *viewer, const char *category)
{
    bool in_text = i % 2 == 0 || i % 3 != 0;
    const char *provider = i % 4 == 3 ? ORG_B : ORG_A;
    bool visible = i % 10 != 7 || strcmp(provider, viewer) == 0;
    bool in_category = !category || strcmp(category, i % 5 == 0 ? "base" : "department") == 0;
    return in_text && visible && in_category;
}

static void check(const char *viewer, const char *category)
{
    static char found[RESOURCES];
    static bool in_name[RESOURCES];
    int first_other;
    yw_catalog_search_query q = {.text = "琥珀", .viewer_org = viewer, .category = category, .limit = 100};
    int n = page_through(q, found, in_name, &first_other);
    int want = 0;
    for (int i = 0; i < RESOURCES; i++) {
        cr_assert_eq(found[i], expected(i, viewer, category), "resource %d, viewer %s, category %s", i, viewer,
                     category ? category : "any");
        want += found[i];
    }
    cr_assert_eq(n, want);
    cr_assert_gt(first_other, 0, "both groups are there");
}

Test(catalog_search, every_match_once_name_matches_first_with_the_drafts_one_may_see)
{
    check(ORG_A, NULL);
    cr_assert(saw_listed_names && saw_ranked_others, "2,250 name matches are listed, the others ranked");
    check(ORG_B, NULL);
    check(ORG_A, "base");
}

Test(catalog_search, a_cursor_not_made_here_is_refused)
{
    json_t *items = json_array();
    char *next = NULL;
    const char *const bad[] = {"x", "nr", "nr:", "nr:-3", "qr:5", "nx:5", "nr:5junk"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        yw_catalog_search_query q = {.text = "琥珀", .viewer_org = ORG_A, .after = bad[i], .limit = 10};
        cr_assert_eq(yw_catalog_search(yw_store_reader(store), &q, items, &next), YW_ERANGE, "%s", bad[i]);
        cr_assert_null(next);
    }
    yw_catalog_search_query none = {.text = " \t", .viewer_org = ORG_A, .limit = 10};
    cr_assert_eq(yw_catalog_search(yw_store_reader(store), &none, items, &next), YW_EINVAL);
    json_decref(items);
}
