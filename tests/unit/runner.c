/*
 * Settings of the unit-test runner itself.
 *
 * Criterion runs every test in a separate, re-executed worker process; the
 * runner process only collects results. The runner of Criterion 2.4.1
 * (Debian 12) now and then leaks a 48-byte event record, which
 * LeakSanitizer reports at exit and which aborts `make unit` although
 * every test passed. Leak checking is switched off for the runner's main
 * thread only, once the tests are about to start: the workers, where the
 * code under test runs, keep full leak detection (a leak in a test is
 * reported with its stack and makes the run fail).
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <sanitizer/lsan_interface.h>

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
    (void)set;
    __lsan_disable();
}
