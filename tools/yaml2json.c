/*
 * yaml2json: converts the OpenAPI description (api/openapi.yaml) to JSON at
 * build time, so the server can embed and serve it as /api/v1/openapi.json
 * and tests can read it without a YAML parser.
 *
 * Plain scalars follow the YAML 1.2 core schema (null, booleans, integers,
 * floats); quoted scalars are always strings. Anchors, aliases and
 * multi-document streams are refused: the API description uses none.
 *
 * usage: yaml2json IN.yaml OUT.json
 */
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static json_t *scalar(const yaml_event_t *ev)
{
    const char *v = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return json_stringn(v, len);
    if (!strcmp(v, "null") || !strcmp(v, "~") || len == 0)
        return json_null();
    if (!strcmp(v, "true"))
        return json_true();
    if (!strcmp(v, "false"))
        return json_false();
    regex_t re;
    regmatch_t m;
    regcomp(&re, "^-?(0|[1-9][0-9]*)$", REG_EXTENDED);
    int is_int = regexec(&re, v, 1, &m, 0) == 0;
    regfree(&re);
    if (is_int)
        return json_integer(strtoll(v, NULL, 10));
    regcomp(&re, "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][-+]?[0-9]+)?$", REG_EXTENDED);
    int is_num = regexec(&re, v, 1, &m, 0) == 0;
    regfree(&re);
    if (is_num)
        return json_real(strtod(v, NULL));
    return json_stringn(v, len);
}

/* Parses the node that starts with the next event; NULL on error. */
static json_t *node(yaml_parser_t *p, const char *path);

static json_t *next_node(yaml_parser_t *p, yaml_event_t *ev, const char *path)
{
    switch (ev->type) {
    case YAML_SCALAR_EVENT: return scalar(ev);
    case YAML_SEQUENCE_START_EVENT: {
        json_t *a = json_array();
        for (;;) {
            yaml_event_t e;
            if (!yaml_parser_parse(p, &e))
                return NULL;
            if (e.type == YAML_SEQUENCE_END_EVENT) {
                yaml_event_delete(&e);
                return a;
            }
            json_t *v = next_node(p, &e, path);
            yaml_event_delete(&e);
            if (!v)
                return NULL;
            json_array_append_new(a, v);
        }
    }
    case YAML_MAPPING_START_EVENT: {
        json_t *o = json_object();
        for (;;) {
            yaml_event_t k;
            if (!yaml_parser_parse(p, &k))
                return NULL;
            if (k.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&k);
                return o;
            }
            if (k.type != YAML_SCALAR_EVENT) {
                fprintf(stderr, "yaml2json: %s: keys must be scalars\n", path);
                return NULL;
            }
            char key[512];
            snprintf(key, sizeof key, "%s", (const char *)k.data.scalar.value);
            yaml_event_delete(&k);
            if (json_object_get(o, key)) {
                fprintf(stderr, "yaml2json: %s: duplicate key '%s'\n", path, key);
                return NULL;
            }
            json_t *v = node(p, key);
            if (!v)
                return NULL;
            json_object_set_new(o, key, v);
        }
    }
    case YAML_ALIAS_EVENT: fprintf(stderr, "yaml2json: %s: aliases are not supported\n", path); return NULL;
    default: fprintf(stderr, "yaml2json: %s: unexpected YAML event %d\n", path, ev->type); return NULL;
    }
}

static json_t *node(yaml_parser_t *p, const char *path)
{
    yaml_event_t ev;
    if (!yaml_parser_parse(p, &ev)) {
        fprintf(stderr, "yaml2json: line %zu: %s\n", p->problem_mark.line + 1, p->problem ? p->problem : "error");
        return NULL;
    }
    json_t *v = next_node(p, &ev, path);
    yaml_event_delete(&ev);
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fputs("usage: yaml2json IN.yaml OUT.json\n", stderr);
        return 2;
    }
    FILE *in = fopen(argv[1], "rb");
    if (!in) {
        perror(argv[1]);
        return 1;
    }
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, in);
    yaml_event_t ev;
    json_t *doc = NULL;
    /* stream start, document start, the root node, document end */
    if (yaml_parser_parse(&p, &ev) && ev.type == YAML_STREAM_START_EVENT) {
        yaml_event_delete(&ev);
        if (yaml_parser_parse(&p, &ev) && ev.type == YAML_DOCUMENT_START_EVENT) {
            yaml_event_delete(&ev);
            doc = node(&p, "/");
        }
    }
    yaml_parser_delete(&p);
    fclose(in);
    if (!doc || json_dump_file(doc, argv[2], JSON_INDENT(1) | JSON_PRESERVE_ORDER) < 0) {
        fprintf(stderr, "yaml2json: cannot convert %s\n", argv[1]);
        json_decref(doc);
        return 1;
    }
    json_decref(doc);
    return 0;
}
