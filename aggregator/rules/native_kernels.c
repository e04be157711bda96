/*
 * Exact column-wise statistics on the fixed-point grid (see aggregator/rules/exact.py).
 *
 * Every function reads float32 rows X[rows[i] * ld + j], maps a value x to the grid
 * value q = round_half_even(x * 2^frac_bits) (exact in double: x * 2^b is exact and
 * adding 1.5 * 2^52 rounds to an integer with ties to even), and combines grid values
 * with int64 arithmetic only. The results are therefore the same integers as the
 * portable torch code, whatever the thread count or vector width.
 *
 * Order statistics sort float32 values with a sorting network (Batcher's odd-even
 * merge sort, pruned to the outputs needed) across LANES adjacent columns at once and
 * quantise the needed order statistics afterwards: quantisation is monotone, so this
 * equals sorting the grid values.
 *
 * Every function returns 0, or 1 when a value is NaN/Inf or beyond max_abs; then
 * *bad_row holds the smallest offending position in `rows` and the output is garbage.
 * Compile without -ffast-math; -ffp-contract=off keeps x * scale + magic unfused.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LANES 16
#define BLOCK 2048

static const double MAGIC = 6755399441055744.0; /* 1.5 * 2^52 */
static const int64_t MAGIC_BITS = 0x4338000000000000LL;

static inline int64_t quantize(float x, double scale) {
    double v = (double)x * scale + MAGIC;
    int64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits - MAGIC_BITS;
}

static inline float dequantize(int64_t q, float resolution) { return (float)q * resolution; }

/* round_half_even(a / b) for b > 0 */
static inline int64_t div_round(int64_t a, int64_t b) {
    int64_t q = a / b, r = a % b;
    if (r < 0) { q -= 1; r += b; }
    int64_t twice = 2 * r;
    if (twice > b || (twice == b && (q & 1))) q += 1;
    return q;
}

static void report_bad(int64_t *bad_row, int64_t row) {
#pragma omp critical(fl_bad_row)
    { if (*bad_row < 0 || row < *bad_row) *bad_row = row; }
}

/* ------------------------------------------------------------------ weighted mean */
int fl_weighted_mean(const float *X, int64_t ld, const int64_t *rows, int64_t n, int64_t d,
                     const int64_t *weights, int64_t denom, int frac_bits, float max_abs,
                     float *out, int nthreads, int64_t *bad_row) {
    const double scale = ldexp(1.0, frac_bits);
    const float resolution = (float)ldexp(1.0, -frac_bits);
    const int64_t nblocks = (d + BLOCK - 1) / BLOCK;
    *bad_row = -1;
#pragma omp parallel for schedule(static) num_threads(nthreads)
    for (int64_t blk = 0; blk < nblocks; blk++) {
        int64_t acc[BLOCK];
        const int64_t j0 = blk * BLOCK;
        const int64_t width = (d - j0) < BLOCK ? (d - j0) : BLOCK;
        memset(acc, 0, sizeof acc);
        for (int64_t i = 0; i < n; i++) {
            const float *p = X + rows[i] * ld + j0;
            const int64_t w = weights[i];
            int bad = 0;
            for (int64_t c = 0; c < width; c++) {
                const float x = p[c];
                bad |= !(fabsf(x) <= max_abs);
                acc[c] += w * quantize(x, scale);
            }
            if (bad) report_bad(bad_row, i);
        }
        for (int64_t c = 0; c < width; c++) out[j0 + c] = dequantize(div_round(acc[c], denom), resolution);
    }
    return *bad_row >= 0;
}

/* ------------------------------------------------------------- sorting networks */
typedef struct { int16_t lo, hi; } comparator;

/* Batcher's odd-even merge sort for the next power of two >= n, dropping comparators
 * that touch padding wires (padding holds +inf and never moves). */
static int build_network(int n, comparator *out) {
    int p2 = 1, count = 0;
    while (p2 < n) p2 <<= 1;
    for (int p = 1; p < p2; p <<= 1)
        for (int k = p; k >= 1; k >>= 1)
            for (int j = k % p; j + k < p2; j += 2 * k)
                for (int i = 0; i < k && i + j + k < p2; i++)
                    if ((i + j) / (2 * p) == (i + j + k) / (2 * p)) {
                        int a = i + j, b = i + j + k;
                        if (b < n) { out[count].lo = (int16_t)a; out[count].hi = (int16_t)b; count++; }
                    }
    return count;
}

static int network_size_bound(int n) {
    int p2 = 1, logp = 0;
    while (p2 < n) { p2 <<= 1; logp++; }
    return p2 * (logp * (logp + 1) / 2 + 1);
}

/* Keep only comparators that can affect wires [first, last]. */
static int prune_network(comparator *net, int count, int n, int first, int last) {
    char *needed = calloc((size_t)n, 1);
    char *keep = calloc((size_t)count, 1);
    for (int w = first; w <= last; w++) needed[w] = 1;
    for (int c = count - 1; c >= 0; c--)
        if (needed[net[c].lo] || needed[net[c].hi]) { keep[c] = 1; needed[net[c].lo] = needed[net[c].hi] = 1; }
    int out = 0;
    for (int c = 0; c < count; c++) if (keep[c]) net[out++] = net[c];
    free(needed);
    free(keep);
    return out;
}

static inline void run_network(float (*v)[LANES], const comparator *net, int count) {
    for (int c = 0; c < count; c++) {
        float *a = v[net[c].lo], *b = v[net[c].hi];
        for (int l = 0; l < LANES; l++) {
            const float x = a[l], y = b[l];
            a[l] = x < y ? x : y;
            b[l] = x < y ? y : x;
        }
    }
}

/* Load LANES columns starting at j (zero-padded past d); returns the first bad row or -1. */
static inline int64_t load_columns(float (*v)[LANES], const float *X, int64_t ld, const int64_t *rows,
                                   int64_t n, int64_t j, int64_t d, float max_abs) {
    const int64_t width = (d - j) < LANES ? (d - j) : LANES;
    for (int64_t i = 0; i < n; i++) {
        const float *p = X + rows[i] * ld + j;
        int bad = 0;
        if (width == LANES) {
            for (int l = 0; l < LANES; l++) { v[i][l] = p[l]; bad |= !(fabsf(p[l]) <= max_abs); }
        } else {
            for (int l = 0; l < LANES; l++) {
                const float x = l < width ? p[l] : 0.0f;
                v[i][l] = x;
                bad |= !(fabsf(x) <= max_abs);
            }
        }
        if (bad) return i;
    }
    return -1;
}

enum { MODE_MEDIAN = 0, MODE_TRIMMED = 1, MODE_BULYAN = 2 };

static int order_statistic(const float *X, int64_t ld, const int64_t *rows, int64_t n, int64_t d,
                           int mode, int64_t param, int frac_bits, float max_abs, float *out,
                           int nthreads, int64_t *bad_row) {
    const double scale = ldexp(1.0, frac_bits);
    const float resolution = (float)ldexp(1.0, -frac_bits);
    comparator *net = malloc(sizeof(comparator) * (size_t)network_size_bound((int)n));
    int count = build_network((int)n, net);
    if (mode == MODE_MEDIAN) count = prune_network(net, count, (int)n, (int)((n - 1) / 2), (int)(n / 2));
    else if (mode == MODE_TRIMMED) count = prune_network(net, count, (int)n, (int)param, (int)(n - 1 - param));
    const int64_t groups = (d + LANES - 1) / LANES;
    *bad_row = -1;
#pragma omp parallel num_threads(nthreads)
    {
        float (*v)[LANES] = malloc(sizeof(float) * LANES * (size_t)n);
        int64_t (*s)[LANES] = malloc(sizeof(int64_t) * LANES * (size_t)n);
#pragma omp for schedule(static)
        for (int64_t g = 0; g < groups; g++) {
            const int64_t j = g * LANES;
            const int64_t bad = load_columns(v, X, ld, rows, n, j, d, max_abs);
            if (bad >= 0) { report_bad(bad_row, bad); continue; }
            run_network(v, net, count);
            int64_t res[LANES];
            if (mode == MODE_MEDIAN) {
                const int64_t lo = (n - 1) / 2, hi = n / 2;
                for (int l = 0; l < LANES; l++)
                    res[l] = div_round(quantize(v[lo][l], scale) + quantize(v[hi][l], scale), 2);
            } else if (mode == MODE_TRIMMED) {
                int64_t acc[LANES] = {0};
                for (int64_t i = param; i < n - param; i++)
                    for (int l = 0; l < LANES; l++) acc[l] += quantize(v[i][l], scale);
                for (int l = 0; l < LANES; l++) res[l] = div_round(acc[l], n - 2 * param);
            } else { /* Bulyan: mean of the beta values closest to the median */
                const int64_t beta = param;
                for (int64_t i = 0; i < n; i++)
                    for (int l = 0; l < LANES; l++) s[i][l] = quantize(v[i][l], scale);
                for (int l = 0; l < LANES; l++) {
                    const int64_t m2 = s[(n - 1) / 2][l] + s[n / 2][l];
                    int64_t start = 0;
                    for (int64_t k = 0; k + beta < n; k++) {
                        const int64_t a = s[k][l], b = s[k + beta][l];
                        const int64_t da = llabs(2 * a - m2), db = llabs(2 * b - m2);
                        start += (db < da) || (a == b && 2 * a < m2);
                    }
                    int64_t acc = 0;
                    for (int64_t k = start; k < start + beta; k++) acc += s[k][l];
                    res[l] = div_round(acc, beta);
                }
            }
            const int64_t width = (d - j) < LANES ? (d - j) : LANES;
            for (int64_t l = 0; l < width; l++) out[j + l] = dequantize(res[l], resolution);
        }
        free(v);
        free(s);
    }
    free(net);
    return *bad_row >= 0;
}

int fl_median(const float *X, int64_t ld, const int64_t *rows, int64_t n, int64_t d, int frac_bits,
              float max_abs, float *out, int nthreads, int64_t *bad_row) {
    return order_statistic(X, ld, rows, n, d, MODE_MEDIAN, 0, frac_bits, max_abs, out, nthreads, bad_row);
}

int fl_trimmed_mean(const float *X, int64_t ld, const int64_t *rows, int64_t n, int64_t d, int64_t trim,
                    int frac_bits, float max_abs, float *out, int nthreads, int64_t *bad_row) {
    return order_statistic(X, ld, rows, n, d, MODE_TRIMMED, trim, frac_bits, max_abs, out, nthreads, bad_row);
}

int fl_closest_to_median_mean(const float *X, int64_t ld, const int64_t *rows, int64_t n, int64_t d,
                              int64_t beta, int frac_bits, float max_abs, float *out, int nthreads,
                              int64_t *bad_row) {
    return order_statistic(X, ld, rows, n, d, MODE_BULYAN, beta, frac_bits, max_abs, out, nthreads, bad_row);
}
