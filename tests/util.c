/* util.c - shared test helpers: nets from cfg text, the finite-difference
 * gradient checker (Caffe's GradientChecker and ggml's grad mode in spirit),
 * temporary directories and fixture files. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <zlib.h>

#include "util.h"

cn_status tu_net_err(const char *cfg_text, cn_error *err)
{
    cn_cfg *cfg = NULL;
    cn_net *net = NULL;
    cn_status st = cn_cfg_parse_string("test.cfg", cfg_text, &cfg, err);
    if (!st)
        st = cn_net_create(cfg, &net, err);
    cn_net_free(net);
    cn_cfg_free(cfg);
    return st;
}

cn_net *tu_net(const char *cfg_text)
{
    cn_cfg *cfg = NULL;
    cn_net *net = NULL;
    cn_error err = {0};
    if (cn_cfg_parse_string("test.cfg", cfg_text, &cfg, &err) ||
        cn_net_create(cfg, &net, &err))
        ck_abort_msg("building the test net failed: %s\n--- cfg ---\n%s", err.msg, cfg_text);
    cn_cfg_free(cfg);
    return net;
}

/* The checked objective: weighted losses + r . output, in double. */
static double objective(cn_net *net, const cn_rng *saved, const float *x, const int *labels,
                        const float *r)
{
    *cn_net_rng(net) = *saved;
    cn_net_set_batch(net, x, labels, cn_net_batch(net));
    cn_net_forward(net);
    double f = cn_net_loss_forward(net);
    const cn_tensor *out = &cn_net_output(net)->out;
    for (size_t i = 0; i < cn_tensor_count(out); i++)
        f += (double)r[i] * out->data[i];
    return f;
}

/* The projection r . output of the checked objective: its gradient r added
 * to the output's dout before backward. */
static void add_projection(cn_net *net, void *r)
{
    cn_tensor *dout = &cn_net_output(net)->dout;
    const float *rr = r;
    for (size_t i = 0; i < cn_tensor_count(dout); i++)
        dout->data[i] += rr[i];
}

/* Compare analytic `grad` with `factor` times central differences over a
 * seeded subset of `value`; returns the worst relative error. */
static double check_tensor(cn_net *net, const cn_rng *saved, float *x, const int *labels,
                           const float *r, float *value, const float *grad, size_t count,
                           cn_rng *pick, const char *what, double factor)
{
    const float eps = 1e-2f;
    double worst = 0.0;
    size_t n_check = count <= 200 ? count : 200;
    for (size_t k = 0; k < n_check; k++) {
        size_t j = count <= 200 ? k : cn_rng_below(pick, (uint32_t)count);
        float v = value[j];
        double fd[2];
        for (int h = 0; h < 2; h++) {
            float e = h ? eps / 2 : eps;
            value[j] = v + e;
            double fp = objective(net, saved, x, labels, r);
            value[j] = v - e;
            double fm = objective(net, saved, x, labels, r);
            value[j] = v;
            fd[h] = (fp - fm) / (2.0 * e);
        }
        /* a kink inside [v-eps, v+eps] makes the two step sizes disagree */
        if (fabs(fd[0] - fd[1]) > 0.05 * fmax(fmax(fabs(fd[0]), fabs(fd[1])), 1e-2))
            continue;
        double a = grad[j], n = factor * fd[0];
        double rel = fabs(a - n) / fmax(fabs(a) + fabs(n), 1e-3);
        if (rel > worst) {
            worst = rel;
            if (rel > 1e-2)
                fprintf(stderr, "gradcheck %s[%zu]: analytic %.6g numeric %.6g\n", what, j, a,
                        n);
        }
    }
    return worst;
}

/* The index of the net's first [grad_reverse] layer, or the layer count. */
static int first_reversal(const cn_net *net)
{
    int i = 1;
    while (i < cn_net_n_layers(net) && strcmp(cn_net_layer(net, i)->ops->type, "grad_reverse"))
        i++;
    return i;
}

/* The index of the layer owning p. */
static int owner_of(const cn_net *net, const cn_param *p)
{
    for (int i = 1; i < cn_net_n_layers(net); i++)
        for (int j = 0; j < cn_net_layer(net, i)->n_params; j++)
            if (cn_net_layer(net, i)->params[j] == p)
                return i;
    ck_abort_msg("parameter '%s' has no layer", p->name);
    return -1;
}

double tu_gradcheck_mode(cn_net *net, int with_input, int classes, uint64_t seed, int train)
{
    return tu_gradcheck_reversed(net, with_input, classes, seed, train, 1.0);
}

double tu_gradcheck_reversed(cn_net *net, int with_input, int classes, uint64_t seed, int train,
                             double factor)
{
    cn_rng rng;
    cn_rng_seed(&rng, seed);
    int n = cn_net_batch(net);
    size_t d = cn_net_input_size(net);
    const cn_tensor *out = &cn_net_output(net)->out;
    size_t n_out = (size_t)n * cn_tensor_sample(out);
    float *x = malloc((size_t)n * d * sizeof *x), *r = malloc(n_out * sizeof *r);
    int *labels = malloc((size_t)n * sizeof *labels);
    ck_assert(x && r && labels);
    for (size_t i = 0; i < (size_t)n * d; i++)
        x[i] = cn_rng_uniform(&rng);
    for (size_t i = 0; i < n_out; i++)
        r[i] = 2.0f * cn_rng_uniform(&rng) - 1.0f;
    for (int i = 0; i < n; i++)
        labels[i] = classes > 0 ? i % classes : -1;
    cn_net_set_train(net, train);
    cn_net_set_input_grad(net, with_input);
    cn_rng saved = *cn_net_rng(net);

    /* analytic gradients: the net's own step, stopping before any update */
    cn_net_set_batch(net, x, labels, n);
    cn_step_opts grad = {.kind = CN_STEP_GRAD, .before_backward = add_projection, .user = r};
    cn_error err = {0};
    double total;
    ck_assert_msg(cn_net_step(net, &grad, &total, &err) == CN_OK, "%s", err.msg);

    double worst = 0.0;
    const int reversal = first_reversal(net);
    for (int p = 0; p < cn_net_n_params(net); p++) {
        cn_param *prm = cn_net_params(net)[p];
        if (prm->buffer) /* running statistics: state, not trained */
            continue;
        float *g = malloc(prm->count * sizeof *g);
        ck_assert(g);
        memcpy(g, prm->grad, prm->count * sizeof *g);
        double f = owner_of(net, prm) < reversal ? factor : 1.0;
        worst = fmax(worst, check_tensor(net, &saved, x, labels, r, prm->value, g, prm->count,
                                         &rng, prm->name, f));
        free(g);
    }
    if (with_input) {
        size_t nx = (size_t)n * d;
        float *g = malloc(nx * sizeof *g);
        ck_assert(g);
        memcpy(g, cn_net_layer(net, 0)->dout.data, nx * sizeof *g);
        worst = fmax(worst, check_tensor(net, &saved, x, labels, r, x, g, nx, &rng, "input",
                                         reversal < cn_net_n_layers(net) ? factor : 1.0));
        free(g);
    }
    cn_net_set_input_grad(net, 0);
    free(x);
    free(r);
    free(labels);
    return worst;
}

const char *tu_tmpdir(void)
{
    static char dirs[8][64];
    static int next;
    char *d = dirs[next++ % 8];
    snprintf(d, sizeof dirs[0], "/tmp/cnet-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(d));
    return d;
}

void tu_ckpt_patch(const char *path, long offset, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    ck_assert(size >= 4 && offset >= 0 && (size_t)offset + n <= (size_t)size - 4);
    unsigned char *buf = malloc((size_t)size);
    ck_assert_ptr_nonnull(buf);
    rewind(f);
    ck_assert_uint_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
    memcpy(buf + offset, bytes, n);
    uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), buf, (uInt)(size - 4));
    memcpy(buf + size - 4, &crc, 4);
    rewind(f);
    ck_assert_uint_eq(fwrite(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    free(buf);
}

const char *tu_write(const char *dir, const char *name, const char *text)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static void write_split(const char *dir, const char *images, const char *labels, int n, int h,
                        int w, int classes, cn_rng *rng)
{
    unsigned char *x = malloc((size_t)n * h * w), *y = malloc((size_t)n);
    ck_assert(x && y);
    for (int i = 0; i < n; i++) {
        int c = (int)cn_rng_below(rng, (uint32_t)classes), row = c * h / classes;
        y[i] = (unsigned char)c;
        for (int j = 0; j < h * w; j++)
            x[(size_t)i * h * w + j] = (unsigned char)(j / w == row ? 200 + cn_rng_below(rng, 56)
                                                                    : cn_rng_below(rng, 60));
    }
    char path[600];
    cn_error err = {0};
    int dims_x[4] = {n, h, w, 0}, dims_y[4] = {n, 0, 0, 0};
    snprintf(path, sizeof path, "%s/%s", dir, images);
    ck_assert_msg(cn_idx_write(path, 3, dims_x, x, &err) == CN_OK, "%s", err.msg);
    snprintf(path, sizeof path, "%s/%s", dir, labels);
    ck_assert_msg(cn_idx_write(path, 1, dims_y, y, &err) == CN_OK, "%s", err.msg);
    free(x);
    free(y);
}

const char *tu_idx_dataset(int n_train, int n_test, int h, int w, int classes, uint64_t seed)
{
    const char *dir = tu_tmpdir();
    cn_rng rng;
    cn_rng_seed(&rng, seed);
    write_split(dir, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", n_train, h, w,
                classes, &rng);
    write_split(dir, "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", n_test, h, w,
                classes, &rng);
    return dir;
}

/* Allocation counting through the linker's --wrap (see the Makefile). */
volatile long tu_allocs;
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

void *__wrap_malloc(size_t n)
{
    tu_allocs++;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    tu_allocs++;
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    tu_allocs++;
    return __real_realloc(p, n);
}

double tu_gradcheck(cn_net *net, int with_input, int classes, uint64_t seed)
{
    return tu_gradcheck_mode(net, with_input, classes, seed, 1);
}

int tu_run(const char *cmd, char *out, size_t size)
{
    char full[4096];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const char *tu_train_dataset(void)
{
    static char dir[256];
    if (!*dir)
        snprintf(dir, sizeof dir, "%s", tu_idx_dataset(256, 64, 8, 8, 4, 5));
    return dir;
}

tu_fixture tu_fixture_open(const char *name, const char *cfg_text, const char *set)
{
    tu_fixture f = {0};
    cn_error err = {0};
    ck_assert_msg(cn_cfg_parse_string(name, cfg_text, &f.cfg, &err) == CN_OK &&
                      (!set || cn_cfg_set(f.cfg, set, &err) == CN_OK) &&
                      cn_net_create(f.cfg, &f.net, &err) == CN_OK &&
                      cn_data_open(f.cfg, cn_net_seed(f.net), &f.data, &err) == CN_OK,
                  "%s", err.msg);
    return f;
}

void tu_fixture_close(tu_fixture *f)
{
    cn_data_close(f->data);
    cn_net_free(f->net);
    cn_cfg_free(f->cfg);
}

const char *tu_path(const char *dir, const char *name)
{
    static char buf[8][1024];
    static int next;
    char tmp[1024];
    ck_assert((size_t)snprintf(tmp, sizeof tmp, "%s/%s", dir, name) < sizeof tmp);
    return memcpy(buf[next++ % 8], tmp, strlen(tmp) + 1);
}

char *tu_generated(void (*write)(FILE *f), size_t *size)
{
    char *text = NULL;
    *size = 0;
    FILE *m = open_memstream(&text, size);
    ck_assert_ptr_nonnull(m);
    write(m);
    fclose(m);
    return text;
}
