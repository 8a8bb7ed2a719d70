/*
 * Writes a CSV of synthetic residents for the import benchmark: a header and
 * N rows of 12 items, every identifier valid (ID numbers with their check
 * digit), so that every row passes validation.
 *
 * usage: gen-people N > people.csv
 */
#include "core/validate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t state = 42;

static uint64_t next(void)
{
    uint64_t x = state += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    static const char *const surnames[] = {"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"};
    static const char *const given[] = {"伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇"};
    printf("id_number,name,gender,birth_date,ethnicity,nationality,phone,address,region_code,education,occupation,"
           "marital_status\n");
    for (long i = 0; i < n; i++) {
        int year = 1940 + (int)(i / 1000 % 70), month = 1 + (int)(i / 70000 % 12), day = 1 + (int)(i / 840000 % 28);
        char first17[18], id[19];
        /* region + date + sequence: unique for the first 28 million rows */
        snprintf(first17, sizeof first17, "330106%04d%02d%02d%03ld", year, month, day, i % 1000);
        snprintf(id, sizeof id, "%s%c", first17, yw_id_card_check(first17));
        printf("%s,%s%s,%d,%04d-%02d-%02d,01,CHN,13%09llu,浙江省杭州市西湖区文三路%llu号,330106,2%d,职员,%s\n", id,
               surnames[next() % 10], given[next() % 10], (int)(i % 2) + 1, year, month, day,
               (unsigned long long)(next() % 1000000000ull), (unsigned long long)(1 + next() % 999), (int)(next() % 9),
               i % 3 ? "20" : "10");
    }
    return 0;
}
