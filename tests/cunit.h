/* cunit.h -- the few lines every CUnit test program shares: register an
 * array of tests as one suite and run it, exiting non-zero on failure. */
#ifndef VU_TESTS_CUNIT_H
#define VU_TESTS_CUNIT_H 1

#include <CUnit/Basic.h>
#include <stdlib.h>

struct cunit_test {
    const char *name;
    void (*fn)(void);
};

#define CUNIT_TEST(fn) { #fn, fn }

static inline int
cunit_run(const char *suite_name, const struct cunit_test *tests, size_t n)
{
    if (CU_initialize_registry() != CUE_SUCCESS) {
        return 1;
    }
    CU_pSuite suite = CU_add_suite(suite_name, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        CU_add_test(suite, tests[i].name, tests[i].fn);
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures()
                      + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}

#define CUNIT_MAIN(suite, tests) \
    int main(void) { return cunit_run(suite, tests, sizeof tests / sizeof tests[0]); }

#endif
