/*
 * Unit tests of core/config.h: defaults, then YIWANG_* variables, then
 * flags. Criterion runs each test in its own process, and every test
 * starts by clearing the variables it could inherit, so setenv here does
 * not leak between tests.
 */
#include <criterion/criterion.h>

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/validate.h"

static const char *const env_names[] = {
    "YIWANG_DATA",        "YIWANG_LISTEN",       "YIWANG_THREADS",     "YIWANG_LOG_LEVEL",
    "YIWANG_TLS_CERT",    "YIWANG_TLS_KEY",      "YIWANG_BODY_LIMIT",  "YIWANG_SESSION_IDLE",
    "YIWANG_SESSION_MAX", "YIWANG_DEMO",         "YIWANG_BUREAU_CODE", "YIWANG_BUREAU_NAME",
    "YIWANG_REGION",
};

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof env_names / sizeof env_names[0]; i++)
        unsetenv(env_names[i]);
}

/* Captures what the config functions print. */
struct capture {
    char *text;
    size_t len;
    FILE *f;
};

static void capture_open(struct capture *c)
{
    c->text = NULL;
    c->len = 0;
    c->f = open_memstream(&c->text, &c->len);
    cr_assert_not_null(c->f);
}

static const char *capture_text(struct capture *c)
{
    fflush(c->f);
    return c->text ? c->text : "";
}

static void capture_close(struct capture *c)
{
    fclose(c->f);
    free(c->text);
}

/* Parses a NULL-terminated list of arguments; returns the result code. */
static int parse_args(yw_config *c, char **argv, int *npos, struct capture *err)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    return yw_config_from_args(c, argc, argv, npos, err->f);
}

Test(config, defaults)
{
    yw_config c;
    yw_config_defaults(&c);
    cr_expect_null(c.data_dir);
    cr_expect_str_eq(c.listen, "127.0.0.1:8080");
    cr_expect_eq(c.threads, 0, "threads default to automatic");
    cr_expect_str_eq(c.log_level, "info");
    cr_expect_null(c.tls_cert);
    cr_expect_null(c.tls_key);
    cr_expect_eq(c.body_limit, 1048576);
    cr_expect_eq(c.session_idle, 1800);
    cr_expect_eq(c.session_max, 43200);
    cr_expect_not(c.demo);
    cr_expect_str_eq(c.region_code, "330100");
    cr_expect(yw_valid_region_code(c.region_code));
    cr_assert_not_null(c.bureau_code);
    cr_expect(yw_valid_uscc(c.bureau_code), "default bureau code %s fails its check", c.bureau_code);
    cr_expect(c.bureau_name && *c.bureau_name);
    yw_config_free(&c);
    cr_expect_null(c.listen);
    cr_expect_null(c.bureau_code);
}

Test(config, automatic_threads_are_two_per_usable_core)
{
    yw_config c;
    yw_config_defaults(&c);
    cpu_set_t set;
    cr_assert_eq(sched_getaffinity(0, sizeof set, &set), 0);
    cr_expect_eq(yw_config_threads(&c), 2 * CPU_COUNT(&set));
    c.threads = 3;
    cr_expect_eq(yw_config_threads(&c), 3, "a configured number is used as given");
    yw_config_free(&c);
}

Test(config, environment_overrides_defaults)
{
    clear_env();
    setenv("YIWANG_DATA", "/srv/yiwang", 1);
    setenv("YIWANG_LISTEN", "0.0.0.0:9000", 1);
    setenv("YIWANG_THREADS", "4", 1);
    setenv("YIWANG_BODY_LIMIT", "2048", 1);
    setenv("YIWANG_SESSION_IDLE", "60", 1);
    setenv("YIWANG_DEMO", "1", 1);
    setenv("YIWANG_REGION", "110000", 1);
    yw_config c;
    yw_config_defaults(&c);
    struct capture err;
    capture_open(&err);
    cr_assert_eq(yw_config_from_env(&c, err.f), 0, "%s", capture_text(&err));
    cr_expect_str_eq(c.data_dir, "/srv/yiwang");
    cr_expect_str_eq(c.listen, "0.0.0.0:9000");
    cr_expect_eq(c.threads, 4);
    cr_expect_eq(c.body_limit, 2048);
    cr_expect_eq(c.session_idle, 60);
    cr_expect(c.demo);
    cr_expect_str_eq(c.region_code, "110000");
    /* untouched options keep their defaults */
    cr_expect_str_eq(c.log_level, "info");
    cr_expect_eq(c.session_max, 43200);
    capture_close(&err);
    yw_config_free(&c);
}

Test(config, boolean_environment_values)
{
    const char *truthy[] = {"1", "true", "yes"};
    const char *falsy[] = {"0", "false", "no", ""};
    for (size_t i = 0; i < 3; i++) {
        clear_env();
        setenv("YIWANG_DEMO", truthy[i], 1);
        yw_config c;
        yw_config_defaults(&c);
        cr_expect_eq(yw_config_from_env(&c, stderr), 0);
        cr_expect(c.demo, "YIWANG_DEMO=%s should enable", truthy[i]);
        yw_config_free(&c);
    }
    for (size_t i = 0; i < 4; i++) {
        clear_env();
        setenv("YIWANG_DEMO", falsy[i], 1);
        yw_config c;
        yw_config_defaults(&c);
        c.demo = true;
        cr_expect_eq(yw_config_from_env(&c, stderr), 0);
        cr_expect_not(c.demo, "YIWANG_DEMO=%s should disable", falsy[i]);
        yw_config_free(&c);
    }
}

Test(config, bad_integers_in_the_environment_are_rejected)
{
    const char *bad[] = {"abc", "", "12x", "0", "257", "-1", "4.5", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        clear_env();
        setenv("YIWANG_THREADS", bad[i], 1);
        yw_config c;
        yw_config_defaults(&c);
        struct capture err;
        capture_open(&err);
        cr_expect_eq(yw_config_from_env(&c, err.f), -1, "YIWANG_THREADS='%s' accepted", bad[i]);
        cr_expect(strstr(capture_text(&err), "YIWANG_THREADS") != NULL, "message should name the variable: '%s'",
                  capture_text(&err));
        cr_expect_eq(c.threads, 0, "a rejected value changed the setting");
        capture_close(&err);
        yw_config_free(&c);
    }
}

Test(config, integer_bounds_are_inclusive)
{
    clear_env();
    yw_config c;
    yw_config_defaults(&c);
    struct capture err;
    capture_open(&err);
    char *ok[] = {"--threads", "1", "--body-limit=1024", NULL};
    int npos;
    cr_expect_eq(parse_args(&c, ok, &npos, &err), 0, "%s", capture_text(&err));
    cr_expect_eq(c.threads, 1);
    cr_expect_eq(c.body_limit, 1024);
    char *hi[] = {"--threads=256", NULL};
    cr_expect_eq(parse_args(&c, hi, &npos, &err), 0);
    cr_expect_eq(c.threads, 256);
    char *low[] = {"--body-limit=1023", NULL};
    cr_expect_eq(parse_args(&c, low, &npos, &err), -1);
    cr_expect_eq(c.body_limit, 1024);
    capture_close(&err);
    yw_config_free(&c);
}

Test(config, flags_override_the_environment)
{
    clear_env();
    setenv("YIWANG_THREADS", "4", 1);
    setenv("YIWANG_LISTEN", "0.0.0.0:1", 1);
    setenv("YIWANG_DATA", "/env", 1);
    yw_config c;
    yw_config_defaults(&c);
    cr_assert_eq(yw_config_from_env(&c, stderr), 0);
    char *argv[] = {"--threads", "16", "--listen=127.0.0.1:2", NULL};
    struct capture err;
    capture_open(&err);
    int npos = -1;
    cr_assert_eq(parse_args(&c, argv, &npos, &err), 0, "%s", capture_text(&err));
    cr_expect_eq(c.threads, 16);
    cr_expect_str_eq(c.listen, "127.0.0.1:2");
    cr_expect_str_eq(c.data_dir, "/env", "an option not given as a flag keeps the environment's value");
    cr_expect_eq(npos, 0);
    capture_close(&err);
    yw_config_free(&c);
}

Test(config, both_flag_forms_and_positionals_in_order)
{
    clear_env();
    yw_config c;
    yw_config_defaults(&c);
    char *argv[] = {"serve", "--data", "/tmp/d", "extra", "--log-level=debug", "--demo", "more",
                    "--session-max", "600", "-v", NULL};
    struct capture err;
    capture_open(&err);
    int npos = -1;
    cr_assert_eq(parse_args(&c, argv, &npos, &err), 0, "%s", capture_text(&err));
    cr_expect_str_eq(c.data_dir, "/tmp/d");
    cr_expect_str_eq(c.log_level, "debug");
    cr_expect(c.demo);
    cr_expect_eq(c.session_max, 600);
    cr_assert_eq(npos, 4);
    cr_expect_str_eq(argv[0], "serve");
    cr_expect_str_eq(argv[1], "extra");
    cr_expect_str_eq(argv[2], "more");
    cr_expect_str_eq(argv[3], "-v");
    capture_close(&err);
    yw_config_free(&c);
}

Test(config, flag_values_may_contain_equals_and_be_empty)
{
    clear_env();
    yw_config c;
    yw_config_defaults(&c);
    char *argv[] = {"--bureau-name=a=b", "--tls-cert=", NULL};
    struct capture err;
    capture_open(&err);
    int npos;
    cr_assert_eq(parse_args(&c, argv, &npos, &err), 0, "%s", capture_text(&err));
    cr_expect_str_eq(c.bureau_name, "a=b");
    cr_expect_str_eq(c.tls_cert, "");
    capture_close(&err);
    yw_config_free(&c);
}

Test(config, boolean_flags)
{
    clear_env();
    yw_config c;
    yw_config_defaults(&c);
    int npos;
    struct capture err;
    capture_open(&err);
    char *on[] = {"--demo", NULL};
    cr_expect_eq(parse_args(&c, on, &npos, &err), 0);
    cr_expect(c.demo);
    char *off[] = {"--demo=false", NULL};
    cr_expect_eq(parse_args(&c, off, &npos, &err), 0);
    cr_expect_not(c.demo);
    /* a bare boolean flag does not swallow the next argument */
    char *next[] = {"--demo", "serve", NULL};
    cr_expect_eq(parse_args(&c, next, &npos, &err), 0);
    cr_expect(c.demo);
    cr_expect_eq(npos, 1);
    cr_expect_str_eq(next[0], "serve");
    capture_close(&err);
    yw_config_free(&c);
}

Test(config, bad_integer_flags_are_rejected)
{
    const char *bad[] = {"--threads=abc", "--threads=", "--threads=0", "--threads=1000", "--session-idle=-5",
                         "--body-limit=1e6"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        clear_env();
        yw_config c;
        yw_config_defaults(&c);
        char *argv[] = {(char *)bad[i], NULL};
        struct capture err;
        capture_open(&err);
        int npos;
        cr_expect_eq(parse_args(&c, argv, &npos, &err), -1, "%s accepted", bad[i]);
        cr_expect(strstr(capture_text(&err), "integer") != NULL, "message for %s: '%s'", bad[i],
                  capture_text(&err));
        capture_close(&err);
        yw_config_free(&c);
    }
}

Test(config, unknown_flags_are_rejected_naming_them)
{
    const char *bad[] = {"--nope", "--dat", "--datax", "--data-dir=/x", "--DATA=/x", "--threads2=3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        clear_env();
        yw_config c;
        yw_config_defaults(&c);
        char *argv[] = {(char *)bad[i], NULL};
        struct capture err;
        capture_open(&err);
        int npos;
        cr_expect_eq(parse_args(&c, argv, &npos, &err), -1, "%s accepted", bad[i]);
        cr_expect(strstr(capture_text(&err), bad[i]) != NULL, "message should name %s: '%s'", bad[i],
                  capture_text(&err));
        cr_expect_null(c.data_dir);
        capture_close(&err);
        yw_config_free(&c);
    }
}

Test(config, a_flag_without_its_value_is_rejected)
{
    clear_env();
    yw_config c;
    yw_config_defaults(&c);
    char *argv[] = {"serve", "--data", NULL};
    struct capture err;
    capture_open(&err);
    int npos;
    cr_expect_eq(parse_args(&c, argv, &npos, &err), -1);
    cr_expect(strstr(capture_text(&err), "--data") != NULL, "'%s'", capture_text(&err));
    cr_expect_null(c.data_dir);
    capture_close(&err);
    yw_config_free(&c);
}

Test(config, repeated_flags_take_the_last_value_without_leaking)
{
    clear_env();
    yw_config c;
    yw_config_defaults(&c);
    char *argv[] = {"--data=/a", "--data", "/b", "--data=/c", NULL};
    struct capture err;
    capture_open(&err);
    int npos;
    cr_expect_eq(parse_args(&c, argv, &npos, &err), 0);
    cr_expect_str_eq(c.data_dir, "/c");
    capture_close(&err);
    yw_config_free(&c); /* LeakSanitizer checks the replaced strings were freed */
}

Test(config, usage_lists_every_flag_with_its_variable)
{
    struct capture out;
    capture_open(&out);
    yw_config_usage(out.f);
    const char *text = capture_text(&out);
    const char *flags[] = {"--data", "--listen", "--threads", "--log-level", "--tls-cert", "--tls-key",
                           "--body-limit", "--session-idle", "--session-max", "--demo", "--bureau-code",
                           "--bureau-name", "--region"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        cr_expect(strstr(text, flags[i]) != NULL, "usage lacks %s", flags[i]);
    for (size_t i = 0; i < sizeof env_names / sizeof env_names[0]; i++)
        cr_expect(strstr(text, env_names[i]) != NULL, "usage lacks %s", env_names[i]);
    capture_close(&out);
}
