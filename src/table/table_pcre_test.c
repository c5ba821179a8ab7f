/*
 * table_pcre_test - pcre: tables against answers recorded from postmap
 * 3.7 (table_pattern_cases.h), plus strict mode and reload.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "table/table_pattern_cases.h"
#include "table/table_test_util.h"

#define TYPE "pcre"
#define WANT want_pcre
#include "table/table_pattern_test.h"
