/*
 * Lock-free latency histogram with fixed Prometheus buckets (seconds).
 * Updated with relaxed atomics from any thread; read for /metrics.
 */
#ifndef YW_CORE_HISTOGRAM_H
#define YW_CORE_HISTOGRAM_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/buf.h"

#define YW_HIST_BUCKETS 12

extern const double yw_hist_bounds[YW_HIST_BUCKETS]; /* upper bounds, seconds */

typedef struct {
    _Atomic uint64_t buckets[YW_HIST_BUCKETS]; /* non-cumulative counts */
    _Atomic uint64_t count;
    _Atomic uint64_t sum_ns;
} yw_histogram;

void yw_hist_observe(yw_histogram *h, int64_t ns);

/*
 * Appends the Prometheus lines of h: name_bucket{labels,le=..}, name_sum,
 * name_count. labels is "" or like `route="/x",status="200"`.
 */
void yw_hist_write(const yw_histogram *h, const char *name, const char *labels, yw_buf *out);

#endif
