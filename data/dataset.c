/* dataset.c - samples, dataset search paths and the splits of the [data] section.
 *
 * cn_data_open loads the train and test splits through the dataset type named
 * by `type`, keeps the first `limit` training samples, and carves a seeded
 * validation part from them: the indices 0..n-1 are shuffled by an RNG
 * seeded with seed ^ 0x5EED, the last round(n * valid_fraction) become the
 * validation indices, and both lists are sorted again so the per-epoch
 * shuffle alone decides the order of training. label_fraction / label_mask
 * unlabel part of the training file, validation part included (labels.c).
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "labels.h"

const cn_key cn_data_common_keys[] = {
    /* The choices: every type of data/registry.c, registered ones included. */
    {"type", CN_KEY_ENUM, "idx", cn_dataset_choices_ + 1, "dataset type"},
    {"valid_fraction", CN_KEY_FLOAT, "0", "[0, 0.9]",
     "fraction of the training samples held out for validation, in [0, 0.9]"},
    {"limit", CN_KEY_INT, "0", "[0, 2147483647]",
     "use at most the first `limit` training samples (0 = all)"},
    {"prefetch", CN_KEY_BOOL, "1", NULL, "fill the next batch on a worker thread"},
    {"label_fraction", CN_KEY_FLOAT, "1", "[0, 1]",
     "fraction of the training samples that keep their labels (a seeded draw; the others "
     "become unlabelled, -1), in [0, 1]"},
    {"label_mask", CN_KEY_STRING, "", NULL,
     "file listing the training-sample indices that keep their labels (the others become "
     "unlabelled)"},
    CN_KEY_END,
};

cn_status cn_byte_scale_check(cn_sec *s, float scale, cn_error *err)
{
    /* the product as cn_dataset_sample computes it, in float */
    if (isfinite(255.0f * scale))
        return CN_OK;
    return cn_sec_bad(s, "scale", CN_ERR_CFG, err, "a byte of 255 would read as %g * 255, "
                      "which is not a finite float: |scale| must be at most %g",
                      (double)scale, (double)(FLT_MAX / 255.0f));
}

void cn_dataset_sample(const cn_dataset *ds, int i, float *x)
{
    size_t d = (size_t)ds->c * (size_t)ds->h * (size_t)ds->w;
    if (ds->u8) {
        const unsigned char *p = ds->u8 + (size_t)i * d;
        for (size_t k = 0; k < d; k++)
            x[k] = (float)p[k] * ds->scale;
    } else {
        memcpy(x, ds->f32 + (size_t)i * d, d * sizeof *x);
    }
}

void cn_dataset_free(cn_dataset *ds)
{
    if (!ds)
        return;
    free(ds->u8);
    free(ds->f32);
    free(ds->labels);
    free(ds);
}

/* out = dir/name if that exists. */
static int try_dir(const char *dir, const char *name, char *out, size_t size)
{
    struct stat st;
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path ||
        stat(path, &st) != 0 || strlen(path) >= size)
        return 0;
    memcpy(out, path, strlen(path) + 1);
    return 1;
}

/* Append ", dir" (or "dir" first) to the list of searched places. */
static void add_searched(char *list, size_t size, const char *dir, size_t len)
{
    size_t used = strlen(list);
    snprintf(list + used, size - used, "%s%.*s", used ? ", " : "", (int)len, dir);
}

cn_status cn_data_locate(const char *name, char *out, size_t size, cn_error *err)
{
    struct stat st;
    if (!name || !name[0])
        return cn_errorf(err, CN_ERR_IO, "empty dataset name");
    if (name[0] == '/' || !strncmp(name, "./", 2) || !strncmp(name, "../", 3)) {
        if (stat(name, &st) != 0)
            return cn_errorf(err, CN_ERR_IO, "dataset '%s' not found: %s", name, strerror(errno));
        if (strlen(name) >= size)
            return cn_errorf(err, CN_ERR_IO, "dataset path too long: '%s'", name);
        memcpy(out, name, strlen(name) + 1);
        return CN_OK;
    }
    char searched[1024] = "", dir[4096];
    const char *env = getenv("CNET_DATA_PATH");
    for (const char *p = env; p && *p;) {
        size_t len = strcspn(p, ":");
        if (len && len < sizeof dir) {
            memcpy(dir, p, len);
            dir[len] = '\0';
            if (try_dir(dir, name, out, size))
                return CN_OK;
            add_searched(searched, sizeof searched, p, len);
        }
        p += len + (p[len] == ':');
    }
    static const char *const fixed[] = {"./datasets", "/usr/share/datasets"};
    for (int i = 0; i < 2; i++) {
        if (try_dir(fixed[i], name, out, size))
            return CN_OK;
        add_searched(searched, sizeof searched, fixed[i], strlen(fixed[i]));
    }
    return cn_errorf(err, CN_ERR_IO, "dataset '%s' not found (searched: %s); install "
                     "dataset-%s or set CNET_DATA_PATH", name, searched, name);
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The `type` key's value (checked against its choices) as a registered type. */
static cn_status find_type(cn_sec *s, const cn_dataset_ops **ops, cn_error *err)
{
    int t;
    const char *name;
    cn_status st;
    if ((st = cn_sec_enum(s, "type", &t, err)) || (st = cn_sec_str(s, "type", &name, err)))
        return st;
    *ops = cn_dataset_find(name);
    if (!*ops)
        return cn_errorf(err, CN_ERR_INTERNAL, "internal: dataset type '%s' is not registered",
                         name);
    return CN_OK;
}

/* train_idx = the first n (after limit), minus a seeded valid_fraction of them. */
static cn_status split(cn_data *d, cn_sec *s, int n, float fraction, uint64_t seed,
                       cn_error *err)
{
    int n_valid = (int)lround((double)n * fraction);
    if (n - n_valid < 1)
        return cn_sec_bad(s, "valid_fraction", CN_ERR_CFG, err, "holding out %d of %d samples "
                          "leaves none for training", n_valid, n);
    int *all = malloc((size_t)n * sizeof *all);
    d->train_idx = malloc((size_t)(n - n_valid) * sizeof *d->train_idx);
    d->valid_idx = n_valid ? malloc((size_t)n_valid * sizeof *d->valid_idx) : NULL;
    if (!all || !d->train_idx || (n_valid && !d->valid_idx)) {
        free(all);
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for %d sample indices", n);
    }
    for (int i = 0; i < n; i++)
        all[i] = i;
    if (n_valid) {
        cn_rng rng;
        cn_rng_seed(&rng, seed ^ 0x5EED);
        cn_rng_shuffle(&rng, all, n);
    }
    d->n_train = n - n_valid;
    d->n_valid = n_valid;
    memcpy(d->train_idx, all, (size_t)d->n_train * sizeof *all);
    if (n_valid)
        memcpy(d->valid_idx, all + d->n_train, (size_t)n_valid * sizeof *all);
    qsort(d->train_idx, (size_t)d->n_train, sizeof *all, cmp_int);
    if (n_valid)
        qsort(d->valid_idx, (size_t)n_valid, sizeof *all, cmp_int);
    free(all);
    return CN_OK;
}

/* Both splits through ops; on a failure, an unknown key in [data] (a typo
 * that may well explain a missing file) is the better message. */
static cn_status load_splits(cn_data *d, const cn_dataset_ops *ops, cn_sec *s, cn_error *err)
{
    cn_error unknown;
    cn_status st = ops->load(s, CN_SPLIT_TRAIN, &d->train, err);
    if (!st)
        st = ops->load(s, CN_SPLIT_TEST, &d->test, err);
    if (st && st != CN_ERR_CFG && st != CN_ERR_INTERNAL && cn_sec_finish(s, &unknown)) {
        if (err)
            *err = unknown;
        return unknown.code;
    }
    if (st || (st = cn_sec_finish(s, err)))
        return st;
    const cn_dataset *a = d->train, *b = d->test;
    if (a->c != b->c || a->h != b->h || a->w != b->w)
        return cn_errorf(err, CN_ERR_SHAPE, "%s holds %dx%dx%d samples but %s holds %dx%dx%d",
                         a->source, a->c, a->h, a->w, b->source, b->c, b->h, b->w);
    return CN_OK;
}

cn_status cn_data_open(const cn_cfg *cfg, uint64_t seed, cn_data **out, cn_error *err)
{
    const cn_dataset_ops *ops;
    float fraction;
    int limit;
    cn_label_keys lk;
    cn_status st;
    *out = NULL;
    cn_cfg_section *sec = cn_cfg_find(cfg, cn_section_name(CN_SECTION_DATA));
    if (!sec)
        return cn_errorf(err, CN_ERR_CFG, "%s: no [data] section", cfg->file);
    /* The type picks the second key table, so read it through the first alone. */
    cn_sec head = cn_sec_make(cfg, sec, cn_data_common_keys, NULL, NULL);
    if ((st = find_type(&head, &ops, err)))
        return st;
    cn_sec s = cn_sec_make(cfg, sec, cn_data_common_keys, ops->keys, NULL);
    cn_data *d = calloc(1, sizeof *d);
    if (!d)
        return cn_errorf(err, CN_ERR_NOMEM, "out of memory for the datasets");
    if ((st = cn_sec_float(&s, "valid_fraction", &fraction, err)) ||
        (st = cn_sec_int(&s, "limit", &limit, err)) ||
        (st = cn_sec_bool(&s, "prefetch", &d->prefetch, err)) ||
        (st = cn_label_keys_read(&s, &lk, err)) || (st = load_splits(d, ops, &s, err)))
        goto fail;
    int n = limit > 0 ? CN_MIN(limit, d->train->n) : d->train->n;
    d->train->n = n; /* the samples past the limit are not part of the experiment */
    if ((st = cn_label_keep(d->train, &lk, cfg->file, seed, err)) ||
        (st = split(d, &s, n, fraction, seed, err)))
        goto fail;
    *out = d;
    return CN_OK;
fail:
    cn_data_close(d);
    return st;
}

void cn_data_close(cn_data *d)
{
    if (!d)
        return;
    cn_dataset_free(d->train);
    cn_dataset_free(d->test);
    free(d->train_idx);
    free(d->valid_idx);
    free(d);
}
