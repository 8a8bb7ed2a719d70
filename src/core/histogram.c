/* Latency histogram (see histogram.h). */
#include "core/histogram.h"

const double yw_hist_bounds[YW_HIST_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                0.01,   0.025,   0.05,   0.1,   0.5,    2.5};

void yw_hist_observe(yw_histogram *h, int64_t ns)
{
    double s = (double)ns / 1e9;
    for (int i = 0; i < YW_HIST_BUCKETS; i++) {
        if (s <= yw_hist_bounds[i]) {
            atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
            break;
        }
    }
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, (uint64_t)(ns > 0 ? ns : 0), memory_order_relaxed);
}

void yw_hist_write(const yw_histogram *h, const char *name, const char *labels, yw_buf *out)
{
    const char *sep = labels[0] ? "," : "";
    uint64_t cumulative = 0;
    for (int i = 0; i < YW_HIST_BUCKETS; i++) {
        cumulative += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
        yw_buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, yw_hist_bounds[i],
                      (unsigned long long)cumulative);
    }
    uint64_t count = atomic_load_explicit(&h->count, memory_order_relaxed);
    yw_buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)count);
    yw_buf_printf(out, "%s_sum{%s} %.9f\n", name, labels,
                  (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / 1e9);
    yw_buf_printf(out, "%s_count{%s} %llu\n", name, labels, (unsigned long long)count);
}
