/*
 * Unit tests of access/access.h: which operation of a service a mediated
 * call falls under (the per-operation right check rests on it), and the
 * path templates behind that.
 */
#include <criterion/criterion.h>

#include <jansson.h>

#include "access/access.h"

Test(access, path_templates_match_segment_by_segment)
{
    cr_assert(access_path_matches("/people/{id}", "people/110101199001011234"));
    cr_assert(access_path_matches("/people/{id}", "/people/1"));
    cr_assert(access_path_matches("/people/{id}/photo", "people/1/photo"));
    cr_assert(access_path_matches("/echo", "echo"));
    cr_assert(access_path_matches("/a/b/", "a/b"));
    cr_assert_not(access_path_matches("/people/{id}", "people"));
    cr_assert_not(access_path_matches("/people/{id}", "people/"));
    cr_assert_not(access_path_matches("/people/{id}", "people/1/photo"));
    cr_assert_not(access_path_matches("/people/{id}/photo", "people/1/photos"));
    cr_assert_not(access_path_matches("/echo", "echoes"));
    cr_assert_not(access_path_matches("/echo", "ech"));
    cr_assert_not(access_path_matches("/people/{id}", "persons/1"));
}

Test(access, a_call_falls_under_the_operation_of_its_method_and_path)
{
    json_t *ops = json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:s, s:s}]", "name", "get_person", "method",
                            "GET", "path", "/people/{id}", "name", "update_person", "method", "PUT", "path",
                            "/people/{id}", "name", "list_people", "method", "GET", "path", "/people");
    access_service svc = {.id = "SV00000001", .operations = ops};
    cr_assert_str_eq(access_operation_match(&svc, "GET", "people/1"), "get_person");
    cr_assert_str_eq(access_operation_match(&svc, "PUT", "people/1"), "update_person");
    cr_assert_str_eq(access_operation_match(&svc, "GET", "people"), "list_people");
    cr_assert_null(access_operation_match(&svc, "DELETE", "people/1"));
    cr_assert_null(access_operation_match(&svc, "GET", "people/1/photo"));
    cr_assert_null(access_operation_match(&svc, "POST", "people"));
    json_decref(ops);
}
