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
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__AVX__)
#include <immintrin.h>
#endif

#define LANES 16
#define BLOCK 2048
#define BLOCK_BYTES (128 * 1024) /* cache block of the order-statistic kernels (in L2) */

static const double MAGIC = 6755399441055744.0; /* 1.5 * 2^52 */
static const int64_t MAGIC_BITS = 0x4338000000000000LL;
#define TWO52 ((int64_t)1 << 52)
#define TWO50 ((int64_t)1 << 50)

static inline int64_t quantize(float x, double scale) {
    double v = (double)x * scale + MAGIC;
    int64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits - MAGIC_BITS;
}

static inline float dequantize(int64_t q, float resolution) { return (float)q * resolution; }

/* round_half_even(a / b) for b > 0. When |a| < 2^52 and b < 2^50 the quotient is
 * estimated in double (off by at most one, then corrected with the exact remainder,
 * all integers below 2^53): a hardware integer division costs ten times more. */
static inline int64_t div_round(int64_t a, int64_t b) {
    if (a > -TWO52 && a < TWO52 && b < TWO50) {
        const double ad = (double)a, bd = (double)b;
        double q = floor(ad / bd);
        double r = ad - q * bd;
        if (r < 0) { q -= 1; r += bd; }
        if (r >= bd) { q += 1; r -= bd; }
        const int64_t qi = (int64_t)q;
        const double twice = 2 * r;
        return qi + ((twice > bd) || (twice == bd && (qi & 1)));
    }
    int64_t q = a / b, r = a % b;
    if (r < 0) { q -= 1; r += b; }
    int64_t twice = 2 * r;
    if (twice > b || (twice == b && (q & 1))) q += 1;
    return q;
}

/* div_round for a block of integer-valued doubles (|a| < 2^52, b < 2^50), written
 * branch-free so it vectorises; (float)q of an exact integer q equals the int64 ->
 * float32 conversion (one rounding of the same value). */
static void div_round_block(const double *acc, int64_t width, double bd, float resolution,
                            float *out) {
    for (int64_t c = 0; c < width; c++) {
        const double a = acc[c];
        double q = floor(a / bd);
        double r = a - q * bd;
        const double neg = (double)(r < 0);
        q -= neg;
        r += neg * bd;
        const double over = (double)(r >= bd);
        q += over;
        r -= over * bd;
        const double twice = 2 * r;
        const double odd = (double)(floor(q * 0.5) != q * 0.5);
        q += (double)(twice > bd) + (double)(twice == bd) * odd;
        out[c] = (float)q * resolution;
    }
}

static void report_bad(int64_t *bad_row, int64_t row) {
#pragma omp critical(fl_bad_row)
    { if (*bad_row < 0 || row < *bad_row) *bad_row = row; }
}

/* Largest |x| of a float row segment as its IEEE bit pattern (monotone for |x|;
 * NaN and Inf patterns exceed every finite one). Integer max vectorises and has no
 * NaN rule to get wrong. */
static inline uint32_t max_abs_bits(const float *p, int64_t width) {
    uint32_t m = 0;
    for (int64_t c = 0; c < width; c++) {
        uint32_t b;
        memcpy(&b, p + c, sizeof b);
        b &= 0x7fffffffu;
        m = b > m ? b : m;
    }
    return m;
}

/* ------------------------------------------------------------------ weighted mean */
/* One pass per block of columns: every row is range-checked (on its IEEE bits) while
 * sum_i w_i q_i accumulates in double. When the block's sum_i w_i * max|q| < 2^52,
 * every product and partial sum is an integer below 2^52, so that accumulator is
 * exact; otherwise (large weights or values) the block is redone with int64
 * accumulators. Both give the same integers. */
int fl_weighted_mean(const float *X, int64_t ld, const int64_t *rows, int64_t n, int64_t d,
                     const int64_t *weights, int64_t denom, int frac_bits, float max_abs,
                     float *out, int nthreads, int64_t *bad_row) {
    const double scale = ldexp(1.0, frac_bits);
    const float resolution = (float)ldexp(1.0, -frac_bits);
    const int64_t nblocks = (d + BLOCK - 1) / BLOCK;
    uint32_t limit;
    memcpy(&limit, &max_abs, sizeof limit);
    double total_weight = 0.0;
    for (int64_t i = 0; i < n; i++) total_weight += (double)weights[i];
    *bad_row = -1;
#pragma omp parallel for schedule(static) num_threads(nthreads)
    for (int64_t blk = 0; blk < nblocks; blk++) {
        const int64_t j0 = blk * BLOCK;
        const int64_t width = (d - j0) < BLOCK ? (d - j0) : BLOCK;
        double acc[BLOCK];
        uint32_t block_max = 0;
        int bad = 0;
        for (int64_t c = 0; c < width; c++) acc[c] = 0.0;
        for (int64_t i = 0; i < n; i++) {
            const float *p = X + rows[i] * ld + j0;
            const double w = (double)weights[i];
            uint32_t m = 0;
            for (int64_t c = 0; c < width; c++) {
                uint32_t b;
                memcpy(&b, p + c, sizeof b);
                b &= 0x7fffffffu;
                m = b > m ? b : m;
                acc[c] += w * (((double)p[c] * scale + MAGIC) - MAGIC); /* round half even */
            }
            if (m > limit) { report_bad(bad_row, i); bad = 1; }
            block_max = m > block_max ? m : block_max;
        }
        if (bad) continue;
        float fmax;
        memcpy(&fmax, &block_max, sizeof fmax);
        if (total_weight * (double)quantize(fmax, scale) < 4503599627370496.0) { /* 2^52 */
            div_round_block(acc, width, (double)denom, resolution, out + j0);
            continue;
        }
        int64_t iacc[BLOCK];
        memset(iacc, 0, sizeof iacc);
        for (int64_t i = 0; i < n; i++) {
            const float *p = X + rows[i] * ld + j0;
            const int64_t w = weights[i];
            for (int64_t c = 0; c < width; c++) iacc[c] += w * quantize(p[c], scale);
        }
        for (int64_t c = 0; c < width; c++)
            out[j0 + c] = dequantize(div_round(iacc[c], denom), resolution);
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

/* Values are finite here (checked on load), so min/max need no NaN rule. */
static inline void run_network(float *v, const comparator *net, int count) {
    for (int c = 0; c < count; c++) {
        float *a = v + (int64_t)net[c].lo * LANES, *b = v + (int64_t)net[c].hi * LANES;
#if defined(__AVX__)
        for (int l = 0; l < LANES; l += 8) {
            const __m256 x = _mm256_loadu_ps(a + l), y = _mm256_loadu_ps(b + l);
            _mm256_storeu_ps(a + l, _mm256_min_ps(x, y));
            _mm256_storeu_ps(b + l, _mm256_max_ps(x, y));
        }
#else
        for (int l = 0; l < LANES; l++) {
            const float x = a[l], y = b[l];
            a[l] = fminf(x, y);
            b[l] = fmaxf(x, y);
        }
#endif
    }
}

/* Copy columns [j, j + width) of every row into the block buffer (contiguous reads the
 * prefetcher follows), zero-padding past d; returns the first bad row or -1. Row i
 * starts at buf + i * group. */
static inline int64_t load_block(float *buf, int64_t group, const float *X, int64_t ld,
                                 const int64_t *rows, int64_t n, int64_t j, int64_t width,
                                 uint32_t limit) {
    for (int64_t i = 0; i < n; i++) {
        const float *p = X + rows[i] * ld + j;
        float *dst = buf + i * group;
        if (max_abs_bits(p, width) > limit) return i;
        memcpy(dst, p, sizeof(float) * (size_t)width);
        for (int64_t c = width; c < group; c++) dst[c] = 0.0f;
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
    int64_t group = (BLOCK_BYTES / (int64_t)sizeof(float) / n) / LANES * LANES;
    if (group < LANES) group = LANES;
    const int64_t blocks = (d + group - 1) / group;
    /* sums of up to n grid values stay below 2^52: exact in double, vectorised division */
    const int small_sums = (double)n * (double)quantize(max_abs, scale) < 4503599627370496.0;
    uint32_t limit;
    memcpy(&limit, &max_abs, sizeof limit);
    *bad_row = -1;
#pragma omp parallel num_threads(nthreads)
    {
        float *buf = malloc(sizeof(float) * (size_t)group * (size_t)n);
        float *v = malloc(sizeof(float) * LANES * (size_t)n); /* wire i, lane l: v[i * LANES + l] */
        int64_t (*s)[LANES] = malloc(sizeof(int64_t) * LANES * (size_t)n);
#pragma omp for schedule(static)
        for (int64_t blk = 0; blk < blocks; blk++) {
            const int64_t j0 = blk * group;
            const int64_t bwidth = (d - j0) < group ? (d - j0) : group;
            const int64_t bad = load_block(buf, group, X, ld, rows, n, j0, bwidth, limit);
            if (bad >= 0) { report_bad(bad_row, bad); continue; }
            for (int64_t g = 0; g * LANES < bwidth; g++) {
                for (int64_t i = 0; i < n; i++) /* into L1: the network touches each wire often */
                    memcpy(v + i * LANES, buf + i * group + g * LANES, sizeof(float) * LANES);
                run_network(v, net, count);
                float resf[LANES];
                if (mode == MODE_MEDIAN) {
                    const int64_t lo = (n - 1) / 2, hi = n / 2;
                    for (int l = 0; l < LANES; l++) {
                        /* round_half_even((a + b) / 2) with a shift: floor, then the odd case */
                        const int64_t sum = quantize(v[lo * LANES + l], scale) + quantize(v[hi * LANES + l], scale);
                        const int64_t half = sum >> 1; /* arithmetic shift: floor division */
                        resf[l] = dequantize(half + ((sum & 1) & (half & 1)), resolution);
                    }
                } else if (mode == MODE_TRIMMED && small_sums) {
                    double acc[LANES] = {0};
                    for (int64_t i = param; i < n - param; i++)
                        for (int l = 0; l < LANES; l++)
                            acc[l] += ((double)v[i * LANES + l] * scale + MAGIC) - MAGIC;
                    div_round_block(acc, LANES, (double)(n - 2 * param), resolution, resf);
                } else if (mode == MODE_TRIMMED) {
                    int64_t acc[LANES] = {0};
                    for (int64_t i = param; i < n - param; i++)
                        for (int l = 0; l < LANES; l++) acc[l] += quantize(v[i * LANES + l], scale);
                    for (int l = 0; l < LANES; l++) resf[l] = dequantize(div_round(acc[l], n - 2 * param), resolution);
                } else { /* Bulyan: mean of the beta values closest to the median */
                    const int64_t beta = param;
                    double acc[LANES];
                    for (int64_t i = 0; i < n; i++)
                        for (int l = 0; l < LANES; l++) s[i][l] = quantize(v[i * LANES + l], scale);
                    for (int l = 0; l < LANES; l++) {
                        const int64_t m2 = s[(n - 1) / 2][l] + s[n / 2][l];
                        int64_t start = 0;
                        for (int64_t k = 0; k + beta < n; k++) {
                            const int64_t a = s[k][l], b = s[k + beta][l];
                            const int64_t da = llabs(2 * a - m2), db = llabs(2 * b - m2);
                            start += (db < da) || (a == b && 2 * a < m2);
                        }
                        int64_t sum = 0;
                        for (int64_t k = start; k < start + beta; k++) sum += s[k][l];
                        if (small_sums) acc[l] = (double)sum;
                        else resf[l] = dequantize(div_round(sum, beta), resolution);
                    }
                    if (small_sums) div_round_block(acc, LANES, (double)beta, resolution, resf);
                }
                const int64_t j = j0 + g * LANES;
                const int64_t width = (d - j) < LANES ? (d - j) : LANES;
                memcpy(out + j, resf, sizeof(float) * (size_t)width);
            }
        }
        free(buf);
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

/* ------------------------------------------------------------- Gram, few rows */
/* Upper triangle of X X^T for few rows (the BLAS product is far from its peak there
 * and the pass is memory-bound): each block of columns is read once into L1 and every
 * pair's dot product taken from it in 8 float32 lanes, added into double per block.
 * Feeds float decisions only (published and verified within tolerance). */
static inline double lane_sum(const float *acc) {
    double s = 0;
    for (int l = 0; l < 8; l++) s += acc[l];
    return s;
}

void fl_gram_small(const float *X, int64_t ld, int64_t n, int64_t d, double *G, int nthreads) {
    int64_t width_max = (24 * 1024 / (int64_t)sizeof(float) / n) / 8 * 8;
    if (width_max < 64) width_max = 64;
    const int64_t blocks = (d + width_max - 1) / width_max;
    if (nthreads < 1) nthreads = 1;
    /* one partial matrix per thread, summed in thread order afterwards: with the static
     * schedule the result is reproducible for a given thread count */
    double *partials = calloc((size_t)(nthreads * n * n), sizeof(double));
#pragma omp parallel num_threads(nthreads)
    {
        double *local = partials + (size_t)omp_get_thread_num() * (size_t)(n * n);
        float *buf = malloc(sizeof(float) * (size_t)(width_max * n));
#pragma omp for schedule(static)
        for (int64_t blk = 0; blk < blocks; blk++) {
            const int64_t j0 = blk * width_max;
            const int64_t width = (d - j0) < width_max ? (d - j0) : width_max;
            const int64_t padded = (width + 7) / 8 * 8;
            for (int64_t i = 0; i < n; i++) {
                memcpy(buf + i * width_max, X + i * ld + j0, sizeof(float) * (size_t)width);
                for (int64_t c = width; c < padded; c++) buf[i * width_max + c] = 0.0f;
            }
            for (int64_t i = 0; i < n; i++) {
                const float *a = buf + i * width_max;
                int64_t k = i;
                for (; k + 4 <= n; k += 4) {
                    const float *b0 = buf + k * width_max, *b1 = b0 + width_max;
                    const float *b2 = b1 + width_max, *b3 = b2 + width_max;
                    float s0[8] = {0}, s1[8] = {0}, s2[8] = {0}, s3[8] = {0};
#if defined(__AVX2__) && defined(__FMA__)
                    __m256 v0 = _mm256_setzero_ps(), v1 = v0, v2 = v0, v3 = v0;
                    for (int64_t c = 0; c < padded; c += 8) {
                        const __m256 x = _mm256_loadu_ps(a + c);
                        v0 = _mm256_fmadd_ps(x, _mm256_loadu_ps(b0 + c), v0);
                        v1 = _mm256_fmadd_ps(x, _mm256_loadu_ps(b1 + c), v1);
                        v2 = _mm256_fmadd_ps(x, _mm256_loadu_ps(b2 + c), v2);
                        v3 = _mm256_fmadd_ps(x, _mm256_loadu_ps(b3 + c), v3);
                    }
                    _mm256_storeu_ps(s0, v0);
                    _mm256_storeu_ps(s1, v1);
                    _mm256_storeu_ps(s2, v2);
                    _mm256_storeu_ps(s3, v3);
#else
                    for (int64_t c = 0; c < padded; c += 8)
                        for (int l = 0; l < 8; l++) {
                            const float x = a[c + l];
                            s0[l] += x * b0[c + l];
                            s1[l] += x * b1[c + l];
                            s2[l] += x * b2[c + l];
                            s3[l] += x * b3[c + l];
                        }
#endif
                    local[i * n + k] += lane_sum(s0);
                    local[i * n + k + 1] += lane_sum(s1);
                    local[i * n + k + 2] += lane_sum(s2);
                    local[i * n + k + 3] += lane_sum(s3);
                }
                for (; k < n; k++) { /* same arithmetic as a tile column: results do not
                                        * depend on a pair's position (row order) */
                    const float *b = buf + k * width_max;
                    float s[8] = {0};
#if defined(__AVX2__) && defined(__FMA__)
                    __m256 v = _mm256_setzero_ps();
                    for (int64_t c = 0; c < padded; c += 8)
                        v = _mm256_fmadd_ps(_mm256_loadu_ps(a + c), _mm256_loadu_ps(b + c), v);
                    _mm256_storeu_ps(s, v);
#else
                    for (int64_t c = 0; c < padded; c += 8)
                        for (int l = 0; l < 8; l++) s[l] += a[c + l] * b[c + l];
#endif
                    local[i * n + k] += lane_sum(s);
                }
            }
        }
        free(buf);
    }
    memset(G, 0, sizeof(double) * (size_t)(n * n));
    for (int t = 0; t < nthreads; t++)
        for (int64_t k = 0; k < n * n; k++) G[k] += partials[(size_t)t * (size_t)(n * n) + k];
    free(partials);
}
