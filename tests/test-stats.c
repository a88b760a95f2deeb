#include "cunit.h"
static void placeholder(void) { CU_PASS("placeholder"); }
static const struct cunit_test tests[] = { CUNIT_TEST(placeholder) };
CUNIT_MAIN("placeholder", tests)
